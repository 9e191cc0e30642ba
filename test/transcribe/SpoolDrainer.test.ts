import { readdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QUARANTINE_DIR, Spool } from '../../src/transcribe/Spool.js';
import { SpoolDrainer, type SpoolDrainerOptions } from '../../src/transcribe/SpoolDrainer.js';
import type { Transcript } from '../../src/transcribe/TranscriptEvents.js';
import { Metrics } from '../../src/util/Metrics.js';
import { ManualClock } from '../util/ManualClock.js';
import {
  badRequest,
  FakeTranscriber,
  maintenancePage,
  MemSegment,
  meta,
  OPENAI_401_BODY,
  rejectedKey,
  serverDown,
  settle,
  Sink,
  tempDir,
  testLogger,
  until,
} from './pipelineFakes.js';

describe('SpoolDrainer', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let clock: ManualClock;
  let metrics: Metrics;
  let sink: Sink;
  let transcriber: FakeTranscriber;
  const drainers: SpoolDrainer[] = [];

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    clock = new ManualClock(1_800_000_000_000);
    metrics = new Metrics();
    sink = new Sink();
    transcriber = new FakeTranscriber(() => clock.now());
  });
  afterEach(async () => {
    for (const d of drainers.splice(0)) d.destroy();
    await cleanup();
  });

  const openSpool = (): Promise<Spool> => Spool.open({ dir, metrics, logger: testLogger(), onWarning: sink.onWarning, clock });
  const makeDrainer = (spool: Spool, extra: Partial<SpoolDrainerOptions> = {}): SpoolDrainer => {
    const drainer = new SpoolDrainer({
      spool,
      transcriber,
      onTranscript: sink.onTranscript,
      onWarning: sink.onWarning,
      metrics,
      logger: testLogger(),
      clock,
      initialBackoffMs: 1_000,
      maxBackoffMs: 4_000,
      ...extra,
    });
    drainers.push(drainer);
    return drainer;
  };
  /** Moves the manual clock and waits until the attempt it triggered (if any) has finished. */
  const advance = async (drainer: SpoolDrainer, ms: number): Promise<void> => {
    clock.advance(ms);
    await until(() => !drainer.busy, 5_000, 'drainer idle');
  };

  it('backs off exponentially up to the cap while uploads fail, then delivers with fromSpool and the original startedAt', async () => {
    const spool = await openSpool();
    const m = meta({ startedAt: 1_700_000_000_500, language: 'fr', prompt: 'Bonjour' });
    await spool.write(new MemSegment(5, m, 'bonjour', 6_400), { attempts: 1 });
    const t0 = clock.now();
    transcriber.auto = () => serverDown();
    const drainer = makeDrainer(spool);
    drainer.start();
    await until(() => !drainer.busy);
    for (const step of [999, 1, 2_000, 4_000, 4_000]) await advance(drainer, step);
    expect(transcriber.calls.map((c) => c.at - t0)).toEqual([0, 1_000, 3_000, 7_000, 11_000]);
    expect(transcriber.calls.every((c) => c.word === 'bonjour' && c.bytes === 6_400)).toBe(true);
    expect(transcriber.calls[0]!.request.language).toBe('fr');
    expect(transcriber.calls[0]!.request.prompt).toBe('Bonjour');
    expect(sink.transcripts).toEqual([]);
    expect(spool.count).toBe(1);
    expect(metrics.get('spool_upload_failures_total')).toBe(5);

    transcriber.auto = () => ({});
    await advance(drainer, 3_999);
    expect(transcriber.calls).toHaveLength(5);
    await advance(drainer, 1);
    expect(sink.transcripts).toEqual([{ meta: m, text: 'bonjour', fromSpool: true }]);
    expect(spool.count).toBe(0);
    expect(await readdir(dir)).toEqual([]);
    expect(metrics.get('spool_uploaded_total')).toBe(1);
    await advance(drainer, 60_000);
    expect(transcriber.calls).toHaveLength(6);
  });

  it('drains at once when kicked (a live upload succeeded), forgetting the backoff', async () => {
    const spool = await openSpool();
    await spool.write(new MemSegment(1, meta({ startedAt: 1_000 }), 'one'));
    await spool.write(new MemSegment(2, meta({ startedAt: 2_000 }), 'two'));
    transcriber.auto = () => serverDown();
    const drainer = makeDrainer(spool);
    drainer.start();
    await until(() => !drainer.busy);
    await advance(drainer, 1_000);
    await advance(drainer, 2_000);
    expect(transcriber.calls).toHaveLength(3);
    transcriber.auto = () => ({});
    drainer.kick();
    await until(() => sink.transcripts.length === 2);
    expect(sink.texts).toEqual(['one (spool)', 'two (spool)']);
    expect(transcriber.calls).toHaveLength(5);
    expect(spool.count).toBe(0);
  });

  it('waits for the backoff after notify() instead of hammering a server that may be down', async () => {
    const spool = await openSpool();
    transcriber.auto = () => ({});
    const drainer = makeDrainer(spool);
    drainer.start();
    await until(() => !drainer.busy);
    await spool.write(new MemSegment(1, meta(), 'later'));
    drainer.notify();
    await settle();
    expect(transcriber.calls).toHaveLength(0);
    await advance(drainer, 1_000);
    expect(sink.texts).toEqual(['later (spool)']);
  });

  it('after a restart, a new Spool and Drainer over the same directory post what the earlier instance left, oldest first', async () => {
    const before = await openSpool();
    const metas = [meta({ startedAt: 3_000, userId: 'u3' }), meta({ startedAt: 1_000, userId: 'u1' }), meta({ startedAt: 2_000, userId: 'u2' })];
    await before.write(new MemSegment(30, metas[0]!, 'third'));
    await before.write(new MemSegment(10, metas[1]!, 'first'));
    await before.write(new MemSegment(20, metas[2]!, 'second'));
    // The earlier process dies here (no close); a write was cut short by kill -9.
    await writeFile(join(dir, '0000000000000500-0000000000000001-abcdef01.wav.tmp'), Buffer.alloc(1_000));

    const after = await openSpool();
    transcriber.auto = () => ({});
    const drainer = makeDrainer(after);
    drainer.start();
    await until(() => sink.transcripts.length === 3);
    expect(sink.transcripts).toEqual([
      { meta: metas[1], text: 'first', fromSpool: true },
      { meta: metas[2], text: 'second', fromSpool: true },
      { meta: metas[0], text: 'third', fromSpool: true },
    ]);
    await until(() => !drainer.busy);
    expect(await readdir(dir)).toEqual([]);
    expect(metrics.get('spool_tmp_files_removed_total')).toBe(1);
  });

  it('is not blocked by truncated, garbage or half-written files', async () => {
    const before = await openSpool();
    const cut = await before.write(new MemSegment(1, meta({ startedAt: 100 }), 'cut-short', 4_000));
    await before.write(new MemSegment(2, meta({ startedAt: 200 }), 'alpha'));
    await before.write(new MemSegment(3, meta({ startedAt: 300 }), 'beta'));
    await truncate(join(dir, cut.name), 500);
    await writeFile(join(dir, '0000000000000050-0000000000000009-deadbeef.wav'), 'RIFF....WAVEgarbage');
    await writeFile(join(dir, '0000000000000060-0000000000000009-deadbeef.wav.tmp'), 'half');

    const spool = await openSpool();
    transcriber.auto = () => ({});
    const drainer = makeDrainer(spool);
    drainer.start();
    await until(() => sink.transcripts.length === 2);
    expect(sink.texts).toEqual(['alpha (spool)', 'beta (spool)']);
    expect(metrics.get('spool_corrupt_files_total')).toBe(2);
    expect(await readdir(join(dir, QUARANTINE_DIR))).toHaveLength(2);
  });

  it('quarantines an entry that became unreadable after start-up and goes on with the next', async () => {
    const spool = await openSpool();
    const broken = await spool.write(new MemSegment(1, meta({ startedAt: 100 }), 'broken', 4_000));
    await spool.write(new MemSegment(2, meta({ startedAt: 200 }), 'fine'));
    await truncate(join(dir, broken.name), 100);
    transcriber.auto = () => ({});
    const drainer = makeDrainer(spool);
    drainer.start();
    await until(() => sink.transcripts.length === 1 && !drainer.busy);
    expect(sink.texts).toEqual(['fine (spool)']);
    expect(transcriber.calls.map((c) => c.word)).toEqual(['fine']);
    expect(spool.count).toBe(0);
    expect(metrics.get('spool_quarantined_total')).toBe(1);
    expect(sink.warnings.map((w) => w.warning.code)).toEqual(['SPOOL_QUARANTINED']);
  });

  it('keeps the backlog on a rejected key (401), backs off, warns once; the fixed key then transcribes all of it', async () => {
    const spool = await openSpool();
    const first = meta({ startedAt: 100, textChannelId: 'talk' });
    const second = meta({ startedAt: 200, textChannelId: 'talk' });
    await spool.write(new MemSegment(1, first, 'first'));
    await spool.write(new MemSegment(2, second, 'second'));
    const t0 = clock.now();
    transcriber.auto = () => rejectedKey();
    const drainer = makeDrainer(spool);
    drainer.start();
    await until(() => !drainer.busy);
    for (const step of [1_000, 2_000, 4_000]) await advance(drainer, step);
    // Like an outage: the oldest entry is tried on the backoff schedule; nothing is deleted.
    expect(transcriber.calls.map((c) => [c.word, c.at - t0])).toEqual([
      ['first', 0],
      ['first', 1_000],
      ['first', 3_000],
      ['first', 7_000],
    ]);
    expect(spool.count).toBe(2);
    expect(metrics.get('segments_failed_total')).toBe(0);
    expect(sink.warnings).toHaveLength(1);
    expect(sink.warnings[0]!.warning).toMatchObject({ code: 'SERVICE_FAULT', segment: first });
    expect(sink.warnings[0]!.message).toContain('HTTP 401');
    expect(sink.warnings[0]!.message).toContain('TRANSCRIBE_API_KEY');
    expect(sink.warnings[0]!.message).not.toContain('Incorrect API key');
    expect(OPENAI_401_BODY).toContain('Incorrect API key');

    transcriber.auto = () => ({});
    await advance(drainer, 4_000);
    await until(() => sink.transcripts.length === 2 && !drainer.busy);
    expect(sink.transcripts).toEqual([
      { meta: first, text: 'first', fromSpool: true },
      { meta: second, text: 'second', fromSpool: true },
    ]);
    expect(spool.count).toBe(0);
  });

  it('keeps an entry whose answer is a 200 maintenance page instead of a transcript, and delivers it once the service answers', async () => {
    const spool = await openSpool();
    await spool.write(new MemSegment(1, meta({ startedAt: 100 }), 'patient'));
    transcriber.auto = () => maintenancePage();
    const drainer = makeDrainer(spool);
    drainer.start();
    await until(() => !drainer.busy);
    await advance(drainer, 1_000);
    expect(transcriber.calls).toHaveLength(2);
    expect(spool.count).toBe(1);
    expect(sink.warnings.map((w) => w.warning.code)).toEqual(['SERVICE_FAULT']);
    transcriber.auto = () => ({});
    await advance(drainer, 2_000);
    expect(sink.texts).toEqual(['patient (spool)']);
    expect(spool.count).toBe(0);
  });

  it('deletes an entry the server rejects for good, counts and reports it, and goes on', async () => {
    const spool = await openSpool();
    const rejected = meta({ startedAt: 100, textChannelId: 'tx' });
    await spool.write(new MemSegment(1, rejected, 'tooshort'));
    await spool.write(new MemSegment(2, meta({ startedAt: 200 }), 'ok'));
    transcriber.auto = (word) => (word === 'tooshort' ? badRequest() : {});
    const drainer = makeDrainer(spool);
    drainer.start();
    await until(() => sink.transcripts.length === 1 && !drainer.busy);
    expect(sink.texts).toEqual(['ok (spool)']);
    expect(metrics.get('segments_failed_total')).toBe(1);
    expect(sink.warnings).toHaveLength(1);
    expect(sink.warnings[0]!.warning).toMatchObject({ code: 'SEGMENT_FAILED', segment: rejected });
    expect(sink.warnings[0]!.message).toBe(
      'A stored recording could not be transcribed and was deleted: the transcription service refused this recording (HTTP 400).',
    );
    expect(spool.count).toBe(0);
  });

  it('drops hallucinated text (and deletes the entry) through the injected filter', async () => {
    const spool = await openSpool();
    const quiet = meta({ startedAt: 100, durationMs: 900, rmsDbfs: -Infinity, speechMs: 0 });
    await spool.write(new MemSegment(1, quiet, 'Thanks for watching!'));
    await spool.write(new MemSegment(2, meta({ startedAt: 200 }), 'real words'));
    const seen: unknown[] = [];
    transcriber.auto = () => ({ noSpeechProb: 0.9 });
    const drainer = makeDrainer(spool, {
      isHallucination: (text, info) => {
        seen.push({ text, ...info });
        return text === 'Thanks for watching!';
      },
    });
    drainer.start();
    await until(() => spool.count === 0 && !drainer.busy);
    expect(sink.texts).toEqual(['real words (spool)']);
    expect(seen[0]).toEqual({ text: 'Thanks for watching!', durationMs: 900, rmsDbfs: -Infinity, speechMs: 0, noSpeechProb: 0.9 });
    expect(metrics.get('segments_filtered_total')).toBe(1);
  });

  it('quarantines an entry that keeps failing although live uploads succeed in between', async () => {
    const spool = await openSpool();
    await spool.write(new MemSegment(1, meta({ startedAt: 100 }), 'poison'));
    await spool.write(new MemSegment(2, meta({ startedAt: 200 }), 'healthy'));
    transcriber.auto = (word) => (word === 'poison' ? serverDown() : {});
    const drainer = makeDrainer(spool, { maxStrikes: 3 });
    drainer.start();
    await until(() => !drainer.busy);
    await advance(drainer, 1_000); // backoff failures alone never quarantine: the server may simply be down
    await advance(drainer, 2_000);
    expect(spool.count).toBe(2);
    for (let i = 0; i < 3; i++) {
      drainer.kick();
      await until(() => !drainer.busy);
    }
    await until(() => sink.transcripts.length === 1);
    expect(sink.texts).toEqual(['healthy (spool)']);
    expect(transcriber.calls.filter((c) => c.word === 'poison')).toHaveLength(6);
    expect(metrics.get('spool_quarantined_total')).toBe(1);
    expect(await readdir(join(dir, QUARANTINE_DIR))).toHaveLength(1);
  });

  it('close() lets the upload under way finish until the deadline, then aborts it and keeps the entry', async () => {
    const spool = await openSpool();
    await spool.write(new MemSegment(1, meta({ startedAt: 100 }), 'slow'));
    const drainer = makeDrainer(spool);
    drainer.start();
    await until(() => transcriber.pending.length === 1);
    let closed = false;
    void drainer.close(2_000).then(() => (closed = true));
    clock.advance(1_999);
    await settle();
    expect(closed).toBe(false);
    clock.advance(1);
    await until(() => closed);
    expect(transcriber.pending).toHaveLength(0);
    expect(spool.count).toBe(1);
    drainer.kick();
    drainer.notify();
    clock.advance(600_000);
    await settle();
    expect(transcriber.calls).toHaveLength(1);
    expect(sink.transcripts).toEqual([]);
  });

  it('close() resolves at its deadline even when the transcriber ignores the abort', async () => {
    const spool = await openSpool();
    await spool.write(new MemSegment(1, meta({ startedAt: 100 }), 'hung'));
    transcriber.honourAbort = false;
    const drainer = makeDrainer(spool);
    drainer.start();
    await until(() => transcriber.pending.length === 1);
    let closed = false;
    void drainer.close(500).then(() => (closed = true));
    clock.advance(500);
    await until(() => closed);
    expect(drainer.busy).toBe(true); // still waiting on the hung call, but close() did not
    expect(spool.count).toBe(1);
    transcriber.call('hung').resolve(); // a late answer is still delivered and the entry deleted, not lost
    await until(() => !drainer.busy);
    expect(sink.texts).toEqual(['hung (spool)']);
    expect(spool.count).toBe(0);
  });

  it('close() returns as soon as the upload under way finishes and delivers its transcript', async () => {
    const spool = await openSpool();
    await spool.write(new MemSegment(1, meta({ startedAt: 100 }), 'done-in-time'));
    await spool.write(new MemSegment(2, meta({ startedAt: 200 }), 'next-time'));
    const drainer = makeDrainer(spool);
    drainer.start();
    await until(() => transcriber.pending.length === 1);
    const closing = drainer.close(10_000);
    transcriber.call('done-in-time').resolve();
    await closing;
    expect(sink.texts).toEqual(['done-in-time (spool)']);
    expect(spool.list().map((e) => e.id)).toEqual([2]);
    expect(transcriber.calls).toHaveLength(1);
  });

  describe('at-least-once delivery (the entry goes only once Discord has the line)', () => {
    /** A listener whose hand-overs the test settles, like the bot's handler waiting for ChannelPoster. */
    const controlledListener = () => {
      const handed: { t: Transcript; resolve: () => void; reject: (e: unknown) => void }[] = [];
      const onTranscript = (t: Transcript): Promise<void> =>
        new Promise<void>((resolve, reject) => {
          handed.push({ t, resolve, reject });
        });
      return { handed, onTranscript };
    };

    it('keeps the entry while the line waits, keeps it (and the text) when not delivered, retries after the backoff without a new upload', async () => {
      const spool = await openSpool();
      const m = meta({ startedAt: 100 });
      await spool.write(new MemSegment(1, m, 'patience'));
      transcriber.auto = () => ({});
      const listener = controlledListener();
      const drainer = makeDrainer(spool, { onTranscript: listener.onTranscript });
      drainer.start();
      await until(() => listener.handed.length === 1);
      await settle();
      expect(spool.count).toBe(1); // handed over is not delivered
      expect(drainer.busy).toBe(true);

      listener.handed[0]!.reject(new Error('429 for ever'));
      await until(() => !drainer.busy);
      expect(spool.count).toBe(1);
      expect(metrics.get('spool_delivery_failures_total')).toBe(1);
      expect(metrics.get('spool_uploaded_total')).toBe(0);

      await advance(drainer, 999);
      expect(listener.handed).toHaveLength(1);
      clock.advance(1);
      await until(() => listener.handed.length === 2);
      // The same text again, marked so that the transcript file does not get it twice; Whisper is not asked again.
      expect(listener.handed.map((h) => h.t)).toEqual([
        { meta: m, text: 'patience', fromSpool: true },
        { meta: m, text: 'patience', fromSpool: true, redelivered: true },
      ]);
      expect(transcriber.calls).toHaveLength(1);

      listener.handed[1]!.resolve();
      await until(() => !drainer.busy);
      expect(spool.count).toBe(0);
      expect(await readdir(dir)).toEqual([]);
      expect(metrics.get('spool_uploaded_total')).toBe(1);
    });

    it('delivers one entry at a time: the next is not uploaded before the previous line is delivered', async () => {
      const spool = await openSpool();
      await spool.write(new MemSegment(1, meta({ startedAt: 100 }), 'one'));
      await spool.write(new MemSegment(2, meta({ startedAt: 200 }), 'two'));
      transcriber.auto = () => ({});
      const listener = controlledListener();
      const drainer = makeDrainer(spool, { onTranscript: listener.onTranscript });
      drainer.start();
      await until(() => listener.handed.length === 1);
      await settle();
      expect(transcriber.calls.map((c) => c.word)).toEqual(['one']);
      listener.handed[0]!.resolve();
      await until(() => listener.handed.length === 2);
      expect(spool.list().map((e) => e.id)).toEqual([2]);
      listener.handed[1]!.resolve();
      await until(() => !drainer.busy);
      expect(spool.count).toBe(0);
    });

    it('keeps the entry when the listener throws (a bug must not delete speech nobody saw)', async () => {
      const spool = await openSpool();
      await spool.write(new MemSegment(1, meta({ startedAt: 100 }), 'kept'));
      transcriber.auto = () => ({});
      const drainer = makeDrainer(spool, {
        onTranscript: () => {
          throw new Error('listener bug');
        },
      });
      drainer.start();
      await until(() => !drainer.busy);
      expect(spool.count).toBe(1);
      expect(metrics.get('spool_delivery_failures_total')).toBe(1);
    });

    it('close() while the line waits for Discord: resolves at the deadline with the entry kept; a line that still goes out deletes it', async () => {
      const spool = await openSpool();
      await spool.write(new MemSegment(1, meta({ startedAt: 100 }), 'late'));
      await spool.write(new MemSegment(2, meta({ startedAt: 200 }), 'untouched'));
      transcriber.auto = () => ({});
      const listener = controlledListener();
      const drainer = makeDrainer(spool, { onTranscript: listener.onTranscript });
      drainer.start();
      await until(() => listener.handed.length === 1);
      let closed = false;
      void drainer.close(2_000).then(() => (closed = true));
      clock.advance(1_999);
      await settle();
      expect(closed).toBe(false);
      clock.advance(1);
      await until(() => closed && !drainer.busy);
      expect(spool.count).toBe(2);
      listener.handed[0]!.resolve(); // posted during the rest of the shutdown
      await until(() => spool.count === 1);
      expect(spool.list().map((e) => e.id)).toEqual([2]);
      expect(transcriber.calls).toHaveLength(1);
    });
  });
});
