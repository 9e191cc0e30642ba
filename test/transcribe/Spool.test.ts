import { readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseWavHeader } from '../../src/audio/wav.js';
import { QUARANTINE_DIR, Spool, type SpoolOptions } from '../../src/transcribe/Spool.js';
import { SpoolError } from '../../src/transcribe/SpoolError.js';
import { SpoolFileSegment } from '../../src/transcribe/SpoolFileSegment.js';
import { Metrics } from '../../src/util/Metrics.js';
import { ManualClock } from '../util/ManualClock.js';
import { MemSegment, meta, readAll, Sink, tempDir, testLogger, wordOf } from './pipelineFakes.js';

describe('Spool', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let metrics: Metrics;
  let sink: Sink;

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    metrics = new Metrics();
    sink = new Sink();
  });
  afterEach(async () => {
    await cleanup();
  });

  const openSpool = (extra: Partial<SpoolOptions> = {}): Promise<Spool> =>
    Spool.open({ dir, metrics, logger: testLogger(), onWarning: sink.onWarning, clock: new ManualClock(), ...extra });

  it('stores a playable WAV with an exact header plus metadata, and reads it back in fixed-size pieces', async () => {
    const spool = await openSpool({ readChunkBytes: 1000 });
    const m = meta({ startedAt: 1_700_000_123_456, rmsDbfs: -Infinity, language: 'de', prompt: 'Grüße, Ölfass' });
    const segment = new MemSegment(42, m, 'hallo', 3_200, 640, 'async');
    const entry = await spool.write(segment, { attempts: 2 });

    expect(segment.releases).toBe(0); // the caller releases, not the spool
    expect(spool.list()).toEqual([entry]);
    expect(entry.startedAt).toBe(1_700_000_123_456);
    expect(entry.id).toBe(42);

    const file = await readFile(join(dir, entry.name));
    expect(file.length).toBe(entry.bytes);
    const wav = parseWavHeader(file);
    expect(wav).toMatchObject({ sampleRate: 16_000, channels: 1, bitsPerSample: 16, dataOffset: 44, dataBytes: 3_200 });
    expect(file.readUInt32LE(4)).toBe(file.length - 8); // RIFF size covers the metadata chunk
    expect(file.subarray(44, 44 + 3_200).equals(segment.bytes)).toBe(true);
    expect(file.toString('latin1', 44 + 3_200, 44 + 3_204)).toBe('tsmd');
    expect(await readdir(dir)).toEqual([entry.name]); // no *.tmp left behind

    const back = await spool.open(entry);
    expect(back).toBeInstanceOf(SpoolFileSegment);
    expect(back.id).toBe(42);
    expect(back.attempts).toBe(2);
    expect(back.byteLength).toBe(3_200);
    expect(back.meta).toEqual(m);
    const sizes: number[] = [];
    for await (const chunk of back.chunks() as AsyncIterable<Uint8Array>) sizes.push(chunk.byteLength);
    expect(sizes).toEqual([1000, 1000, 1000, 200]);
    const pcm = await readAll(back); // chunks() can be called again (one per upload attempt)
    expect(pcm.equals(segment.bytes)).toBe(true);
    expect(wordOf(pcm)).toBe('hallo');
    back.release(); // deletes nothing
    expect(spool.has(entry)).toBe(true);
    expect(await readdir(dir)).toEqual([entry.name]);
    expect(metrics.get('spool_segments')).toBe(1);
    expect(metrics.get('spool_bytes')).toBe(file.length);
  });

  it('lists entries by startedAt, then id, whatever the write order', async () => {
    const spool = await openSpool();
    await spool.write(new MemSegment(7, meta({ startedAt: 3_000 }), 'c'));
    await spool.write(new MemSegment(9, meta({ startedAt: 1_000 }), 'b'));
    await spool.write(new MemSegment(8, meta({ startedAt: 1_000 }), 'a'));
    await spool.write(new MemSegment(1, meta({ startedAt: 2_000 }), 'x'));
    expect(spool.list().map((e) => [e.startedAt, e.id])).toEqual([
      [1_000, 8],
      [1_000, 9],
      [2_000, 1],
      [3_000, 7],
    ]);
    expect((await readdir(dir)).sort()).toEqual(spool.list().map((e) => e.name));
    expect(spool.oldest()?.id).toBe(8);
  });

  it('removes an entry and tolerates removing it twice', async () => {
    const spool = await openSpool();
    const entry = await spool.write(new MemSegment(1, meta(), 'a'));
    await spool.remove(entry);
    await spool.remove(entry);
    expect(spool.count).toBe(0);
    expect(spool.bytes).toBe(0);
    expect(await readdir(dir)).toEqual([]);
    expect(metrics.get('spool_segments')).toBe(0);
  });

  it('leaves nothing behind when a segment fails while being written', async () => {
    const spool = await openSpool();
    const broken = new MemSegment(1, meta(), 'a', 2_000);
    broken.chunks = function* () {
      yield Buffer.alloc(640);
      throw new Error('slab vanished');
    };
    await expect(spool.write(broken)).rejects.toMatchObject({ code: 'SPOOL_WRITE' });
    const short = new MemSegment(2, meta(), 'b', 2_000);
    Object.defineProperty(short, 'byteLength', { value: 3_000 });
    await expect(spool.write(short)).rejects.toMatchObject({ code: 'SPOOL_WRITE' });
    expect(await readdir(dir)).toEqual([]);
    expect(spool.count).toBe(0);
    // …and the spool still works afterwards.
    await spool.write(new MemSegment(3, meta(), 'c'));
    expect(spool.count).toBe(1);
  });

  it('drops the OLDEST entries when the size cap is reached, counts them and warns with their metadata', async () => {
    const probe = await openSpool();
    const oneFile = (await probe.write(new MemSegment(0, meta({ startedAt: 9_000, textChannelId: 'tz' }), 'probe', 10_000))).bytes;
    await probe.remove(probe.oldest()!);
    const spool = await openSpool({ maxBytes: oneFile * 3 + 10 });
    const channels = ['ta', 'tb', 'tc', 'td', 'te'];
    for (let i = 0; i < 5; i++) {
      await spool.write(new MemSegment(i, meta({ startedAt: 1_000 * (i + 1), textChannelId: channels[i]! }), `w${i}`, 10_000));
    }
    expect(spool.list().map((e) => e.id)).toEqual([2, 3, 4]);
    expect(spool.bytes).toBe(oneFile * 3);
    expect(metrics.get('spool_dropped_segments_total')).toBe(2);
    expect(metrics.get('spool_bytes')).toBe(oneFile * 3);
    const onDisk = await Promise.all((await readdir(dir)).map(async (n) => (await stat(join(dir, n))).size));
    expect(onDisk.reduce((a, b) => a + b, 0)).toBe(oneFile * 3);
    expect(sink.warnings.map((w) => [w.warning.code, w.warning.segment?.textChannelId, w.warning.segment?.startedAt])).toEqual([
      ['SPOOL_DROPPED', 'ta', 1_000],
      ['SPOOL_DROPPED', 'tb', 2_000],
    ]);
  });

  it('refuses a segment larger than the whole cap without dropping anything', async () => {
    const spool = await openSpool({ maxBytes: 5_000 });
    await spool.write(new MemSegment(1, meta(), 'small', 1_000));
    const error = await spool.write(new MemSegment(2, meta(), 'huge', 10_000)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpoolError);
    expect((error as SpoolError).code).toBe('SPOOL_TOO_LARGE');
    expect(spool.count).toBe(1);
    expect(metrics.get('spool_dropped_segments_total')).toBe(0);
  });

  it('at open deletes *.tmp, quarantines truncated, garbage and foreign files, and indexes the valid ones', async () => {
    const first = await openSpool();
    const good = await first.write(new MemSegment(1, meta({ startedAt: 5_000 }), 'good', 4_000));
    const victim = await first.write(new MemSegment(2, meta({ startedAt: 1_000 }), 'cut', 4_000));
    const tail = await first.write(new MemSegment(3, meta({ startedAt: 2_000 }), 'notail', 4_000));
    await first.close();
    await truncate(join(dir, victim.name), 2_000); // stops in the middle of the PCM
    await truncate(join(dir, tail.name), 44 + 4_000 + 8 + 3); // stops in the middle of the metadata
    await writeFile(join(dir, '0000000000000500-0000000000000009-deadbeef.wav'), 'this is no wav file at all, just junk bytes');
    await writeFile(join(dir, '0000000000000600-0000000000000010-cafebabe.wav'), Buffer.alloc(0));
    await writeFile(join(dir, 'notes.txt'), 'stranger');
    await writeFile(join(dir, `${good.name}.tmp`), Buffer.alloc(100)); // a write killed before its rename
    await writeFile(join(dir, '0000000000000700-0000000000000011-00000000.wav.tmp'), Buffer.alloc(10));

    const spool = await openSpool();
    expect(spool.list()).toEqual([good]);
    expect(spool.bytes).toBe(good.bytes);
    expect(metrics.get('spool_tmp_files_removed_total')).toBe(2);
    expect(metrics.get('spool_corrupt_files_total')).toBe(5);
    expect(metrics.get('spool_quarantined_total')).toBe(5);
    expect((await readdir(dir)).sort()).toEqual([good.name, QUARANTINE_DIR].sort());
    const quarantined = (await readdir(join(dir, QUARANTINE_DIR))).map((n) => n.replace(/^\d{16}-/, '')).sort();
    expect(quarantined).toEqual(
      [victim.name, tail.name, '0000000000000500-0000000000000009-deadbeef.wav', '0000000000000600-0000000000000010-cafebabe.wav', 'notes.txt'].sort(),
    );
    expect(sink.warnings.map((w) => w.warning.code)).toEqual(Array(5).fill('SPOOL_QUARANTINED'));
    expect(wordOf(await readAll(await spool.open(good)))).toBe('good');
  });

  it('keeps at most maxQuarantineFiles quarantined files', async () => {
    for (let i = 0; i < 5; i++) await writeFile(join(dir, `junk${i}.wav`), 'junk');
    const spool = await openSpool({ maxQuarantineFiles: 2 });
    expect(spool.count).toBe(0);
    expect(metrics.get('spool_corrupt_files_total')).toBe(5);
    expect(await readdir(join(dir, QUARANTINE_DIR))).toHaveLength(2);
  });

  it('reports an entry truncated after it was indexed as SPOOL_CORRUPT when opened or read', async () => {
    const spool = await openSpool();
    const entry = await spool.write(new MemSegment(1, meta(), 'soon-cut', 4_000));
    const segment = await spool.open(entry);
    await truncate(join(dir, entry.name), 1_000);
    await expect(readAll(segment)).rejects.toMatchObject({ code: 'SPOOL_CORRUPT' });
    await expect(spool.open(entry)).rejects.toMatchObject({ code: 'SPOOL_CORRUPT' });
    await spool.quarantine(entry, new Error('cut'));
    expect(spool.count).toBe(0);
    expect(await readdir(join(dir, QUARANTINE_DIR))).toHaveLength(1);
  });

  it('refuses writes after close', async () => {
    const spool = await openSpool();
    await spool.close();
    await expect(spool.write(new MemSegment(1, meta(), 'late'))).rejects.toMatchObject({ code: 'SPOOL_CLOSED' });
  });
});
