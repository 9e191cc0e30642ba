import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PostResult } from '../../src/transcribe/ChannelPoster.js';
import { TranscriptFile } from '../../src/transcribe/TranscriptFile.js';
import type { Transcript } from '../../src/transcribe/TranscriptEvents.js';
import { DisplayNames, type FetchMember } from '../../src/voice/DisplayNames.js';
import { createTranscriptHandler } from '../../src/voice/SessionTranscripts.js';
import type { ActiveSession } from '../../src/voice/VoiceSessionManager.js';
import { TinyscribeError } from '../../src/util/errors.js';
import { meta, tempDir, testLogger } from '../transcribe/pipelineFakes.js';

describe('createTranscriptHandler: the promise settles with the line’s fate', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  function rig(options: { optedOut?: boolean } = {}) {
    const posts: { channelId: string; line: string; settle: (r: PostResult) => void }[] = [];
    const logger = testLogger();
    const fetchMember: FetchMember = async (_guildId, userId) => ({ nick: 'Alice', user: { id: userId, username: 'alice', global_name: null, discriminator: '0', avatar: null } });
    const transcript = new TranscriptFile(dir, 's1', 1_700_000_000_000, logger);
    let heard = 0;
    // Only what the handler reads; the rest of a session (voice connection…) plays no part here.
    const active = {
      names: new DisplayNames('g1', fetchMember, logger),
      transcript,
      guard: { heard: () => void heard++ },
      postMode: 'messages',
    } as unknown as ActiveSession;
    const handler = createTranscriptHandler({
      sessionOf: (id) => (id === 's1' ? active : undefined),
      isOptedOut: () => options.optedOut === true,
      postLine: (channelId, line) => new Promise<PostResult>((settle) => posts.push({ channelId, line, settle })),
      fetchMember,
      logger,
    });
    /** Settles when the promise does: 'resolved', or the rejection's code. */
    const fate = (p: Promise<void>) => p.then(() => 'resolved', (e: unknown) => (e instanceof TinyscribeError ? e.code : String(e)));
    return { posts, handler, transcript, fate, heard: () => heard };
  }

  const until = async (cond: () => boolean): Promise<void> => {
    for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
    if (!cond()) throw new Error('timed out');
  };

  it('resolves only once the line was sent, not when it is queued', async () => {
    const r = rig();
    let settled: string | undefined;
    void r.fate(r.handler({ meta: meta(), text: 'hello', fromSpool: false })).then((f) => (settled = f));
    await until(() => r.posts.length === 1);
    await new Promise((res) => setTimeout(res, 20));
    expect(settled).toBeUndefined();
    expect(r.posts[0]!.line).toContain('hello');
    r.posts[0]!.settle('sent');
    await until(() => settled !== undefined);
    expect(settled).toBe('resolved');
  });

  it('rejects with TRANSCRIPT_NOT_POSTED when the line may still go through later, and resolves when Discord refused it for good', async () => {
    const r = rig();
    const failed = r.fate(r.handler({ meta: meta(), text: 'try later', fromSpool: true }));
    await until(() => r.posts.length === 1);
    r.posts[0]!.settle('failed');
    expect(await failed).toBe('TRANSCRIPT_NOT_POSTED');
    const refused = r.fate(r.handler({ meta: meta(), text: 'channel gone', fromSpool: true, redelivered: true }));
    await until(() => r.posts.length === 2);
    r.posts[1]!.settle('refused');
    expect(await refused).toBe('resolved');
  });

  it('writes a redelivered line to the transcript file once, though it is posted again', async () => {
    const r = rig();
    const t: Transcript = { meta: meta({ startedAt: 1_700_000_001_000 }), text: 'only once', fromSpool: true };
    const first = r.fate(r.handler(t));
    await until(() => r.posts.length === 1);
    r.posts[0]!.settle('failed');
    await first;
    const second = r.fate(r.handler({ ...t, redelivered: true }));
    await until(() => r.posts.length === 2);
    r.posts[1]!.settle('sent');
    expect(await second).toBe('resolved');
    const files = await r.transcript.finish();
    expect(files.lines).toBe(1);
    expect(files.txt.toString().match(/only once/g)).toHaveLength(1);
    expect(r.posts.map((p) => p.line.includes('only once'))).toEqual([true, true]);
    expect(r.heard()).toBe(1);
  });

  it('resolves at once without posting for an opted-out speaker (dropped on purpose)', async () => {
    const r = rig({ optedOut: true });
    expect(await r.fate(r.handler({ meta: meta(), text: 'private', fromSpool: true }))).toBe('resolved');
    expect(r.posts).toEqual([]);
  });
});
