import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionAnnouncer, type OutgoingMessage } from '../../src/voice/SessionAnnouncer.js';
import type { ActiveSession } from '../../src/voice/VoiceSessionManager.js';
import { TranscriptFile } from '../../src/transcribe/TranscriptFile.js';
import { createLogger } from '../../src/util/logger.js';
import { ManualClock } from '../util/ManualClock.js';

const logger = createLogger({ level: 'silent' });
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(options: { failSend?: boolean; nick?: string | null; attachmentLimit?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tinyscribe-announcer-'));
  dirs.push(dir);
  const clock = new ManualClock();
  const sent: { channelId: string; message: OutgoingMessage }[] = [];
  const nicks: (string | null)[] = [];
  const lines: string[] = [];
  const announcer = new SessionAnnouncer({
    send: async (channelId, message) => {
      if (options.failSend) throw new Error('Missing Permissions');
      sent.push({ channelId, message });
    },
    postLine: (_channelId, line) => lines.push(line),
    ownNickname: async () => options.nick ?? null,
    setNickname: async (_guildId, nick) => void nicks.push(nick),
    settle: async () => undefined,
    clock,
    logger,
  });
  const transcript = new TranscriptFile(dir, 's1', clock.now(), logger);
  const active = {
    session: { target: { guildId: 'g', voiceChannelId: 'v', textChannelId: 't', sessionId: 's1', startedBy: 'u' }, startedAt: clock.now() },
    transcript,
    attachmentLimit: options.attachmentLimit ?? 10_000,
    endReason: 'empty',
  } as unknown as ActiveSession;
  return { announcer, active, transcript, sent, nicks, lines, clock, dir };
}

describe('SessionAnnouncer', () => {
  it('marks the nickname, posts both files with the reason, removes them, and restores the nickname', async () => {
    const h = setup({ nick: 'Scribe' });
    await h.announcer.markRecording('g', 'tinyscribe');
    h.transcript.append({ startedAt: h.clock.now() + 2_000, durationMs: 1_000, name: 'Ally', text: 'hello' });
    h.clock.advance(120_000);
    await h.announcer.finish(h.active);
    expect(h.nicks).toEqual(['🔴 Scribe', 'Scribe']);
    expect(h.sent).toHaveLength(1);
    expect(h.sent[0]!.message.content).toBe('⏹️ Stopped transcribing <#v> (nobody was left in the channel) after 2 min. Transcript: 1 line.');
    expect(h.sent[0]!.message.files!.map((f) => [f.name, f.data.toString()])).toEqual([
      ['transcript.txt', '[00:00:02] Ally: hello\n'],
      ['transcript.srt', '1\n00:00:02,000 --> 00:00:03,000\nAlly: hello\n\n'],
    ]);
    expect(existsSync(join(h.dir, 's1.txt'))).toBe(false);
  });

  it('says so when nothing was transcribed, and keeps the files on disk when Discord refuses them', async () => {
    const quiet = setup();
    await quiet.announcer.finish(quiet.active);
    expect(quiet.sent[0]!.message.content).toContain('Nothing was transcribed');
    expect(quiet.sent[0]!.message.files).toBeUndefined();
    expect(quiet.nicks).toEqual([]); // never marked, so never restored

    const refused = setup({ failSend: true });
    refused.transcript.append({ startedAt: refused.clock.now(), durationMs: 500, name: 'Ally', text: 'keep me' });
    await refused.announcer.finish(refused.active);
    expect(existsSync(join(refused.dir, 's1.txt'))).toBe(true);
  });

  it('notices silence in whole minutes', () => {
    const h = setup();
    h.announcer.onSilence(h.active, 300_000);
    expect(h.lines).toEqual(['🔇 Nothing heard in <#v> for 5 minutes. Still listening; use /leave to stop.']);
  });
});
