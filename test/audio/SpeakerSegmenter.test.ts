import { OpusEncoder } from '@discordjs/opus';
import { describe, expect, it } from 'vitest';
import { DecoderPool } from '../../src/audio/DecoderPool.js';
import { frameRmsDbfs } from '../../src/audio/energy.js';
import { PcmSlabPool } from '../../src/audio/PcmSlabPool.js';
import { FRAME_BYTES, type Segment } from '../../src/audio/Segment.js';
import { SlabSegment } from '../../src/audio/SlabSegment.js';
import { SpeakerSegmenter } from '../../src/audio/SpeakerSegmenter.js';
import { Metrics } from '../../src/util/Metrics.js';
import { ManualClock } from '../util/ManualClock.js';
import { concatPcm, mulberry32, silencePcm, toneBurst } from '../sim/audio/signals.js';
import {
  BASE_META,
  encode48kStereo,
  makeHarness,
  noisePackets,
  OPUS_SILENCE,
  PacketFeeder,
  segmentPcm,
  silencePackets,
  speechPackets,
  T0,
} from './harness.js';

const BYTES_PER_MS = 32;

/** Level of the 20 ms frame at `ms` into a segment's PCM. */
function levelAt(pcm: Buffer, ms: number): number {
  return frameRmsDbfs(pcm, ms * BYTES_PER_MS, FRAME_BYTES);
}

function durations(segments: readonly Segment[]): number[] {
  return segments.map((s) => s.meta.durationMs);
}

describe('SpeakerSegmenter: timeline and segmentation', () => {
  it('2 s speech, 1.5 s pause, 2 s speech → two 2 s segments with true starts', () => {
    const h = makeHarness();
    h.feeder.send(speechPackets(2000));
    h.feeder.pause(1500);
    // checkIdle (the 100 ms timer) sealed the first segment during the pause, not the next packet.
    expect(h.segments).toHaveLength(1);
    h.feeder.send(speechPackets(2000));
    h.clock.advance(1100);
    expect(h.segments).toHaveLength(2);
    const [a, b] = h.segments as [Segment, Segment];
    expect([a.byteLength, b.byteLength]).toEqual([64_000, 64_000]);
    expect(durations(h.segments)).toEqual([2000, 2000]);
    expect(a.meta.startedAt).toBe(T0);
    expect(b.meta.startedAt).toBe(T0 + 3500);
    expect(a.meta).toMatchObject(BASE_META);
    expect(a.meta.speechMs).toBeGreaterThanOrEqual(1960);
    expect(a.meta.rmsDbfs).toBeGreaterThan(-20);
    expect(a.meta.rmsDbfs).toBeLessThan(-10);
    expect(a.id).not.toBe(b.id);
    expect(h.metrics.get('segments_emitted')).toBe(2);
  });

  it('seals on checkIdle only after silenceGapMs of wall time, and trims the trailing F8 FF FE frames', () => {
    const h = makeHarness();
    h.feeder.send(speechPackets(2000));
    h.feeder.send([OPUS_SILENCE, OPUS_SILENCE, OPUS_SILENCE, OPUS_SILENCE, OPUS_SILENCE]);
    const lastPacketAt = h.clock.now() - 20;
    h.segmenter.checkIdle(lastPacketAt + 999);
    expect(h.segments).toHaveLength(0);
    h.segmenter.checkIdle(lastPacketAt + 1000);
    expect(h.segments).toHaveLength(1);
    expect(h.segments[0]!.meta.durationMs).toBe(2000);
    expect(h.segments[0]!.byteLength).toBe(64_000);
  });

  it('keeps a 300 ms word said 400 ms after an utterance in the same segment, with 400 ms of silence between', async () => {
    const h = makeHarness();
    h.feeder.send(speechPackets(2000));
    h.feeder.lose(20); // 400 ms hole in sequence and timestamp
    h.feeder.send(speechPackets(300));
    h.clock.advance(1100);
    expect(h.segments).toHaveLength(1);
    const seg = h.segments[0]!;
    expect(seg.meta.startedAt).toBe(T0);
    expect(seg.meta.durationMs).toBe(2000 + 400 + 300);
    const pcm = await segmentPcm(seg);
    expect(pcm.length).toBe(2700 * BYTES_PER_MS);
    expect(levelAt(pcm, 2200)).toBe(-100); // inserted digital silence
    expect(levelAt(pcm, 2500)).toBeGreaterThan(-25); // the word
    expect(h.metrics.get('audio_inserted_silence_ms')).toBe(400);
  });

  it('emits a lone short word (300 ms at normal level)', () => {
    const h = makeHarness();
    h.feeder.send(speechPackets(300));
    h.clock.advance(1100);
    expect(durations(h.segments)).toEqual([300]);
    expect(h.segments[0]!.meta.speechMs).toBeGreaterThanOrEqual(260);
  });

  it('conceals holes ≤ 200 ms with PLC so the duration stays true', async () => {
    const h = makeHarness();
    h.feeder.send(speechPackets(500));
    h.feeder.lose(10); // 200 ms
    h.feeder.send(speechPackets(500));
    h.clock.advance(1100);
    expect(durations(h.segments)).toEqual([1200]);
    expect(h.metrics.get('audio_concealed_ms')).toBe(200);
    const pcm = await segmentPcm(h.segments[0]!);
    expect(levelAt(pcm, 500)).toBeGreaterThan(-30); // concealment continues the sound, it is not a dropout
  });

  it('inserts at most maxInsertedSilenceMs for a 700 ms timestamp jump', () => {
    const h = makeHarness();
    h.feeder.send(speechPackets(1000));
    h.feeder.jumpTimestamp(35 * 960); // +700 ms on the RTP clock, none on the wall clock
    h.feeder.send(speechPackets(1000));
    h.clock.advance(1100);
    expect(durations(h.segments)).toEqual([1000 + 500 + 1000]);
  });

  it('1 s + timestamp jump of 2 s + 1 s → two 1 s segments; the second starts at its first packet', () => {
    const h = makeHarness();
    h.feeder.send(speechPackets(1000));
    h.feeder.jumpTimestamp(100 * 960);
    h.feeder.send(speechPackets(1000));
    h.clock.advance(1100);
    expect(durations(h.segments)).toEqual([1000, 1000]);
    expect(h.segments.map((s) => s.meta.startedAt)).toEqual([T0, T0 + 1000]);
    expect(h.metrics.get('audio_inserted_silence_ms')).toBe(0);
  });

  it('treats sequence 65535 → 0 and timestamp 2^32 → 0 as ordinary, even with a hole across the wrap', () => {
    const h = makeHarness({}, { sequence: 65_535 - 29, timestamp: 2 ** 32 - 30 * 960 });
    h.feeder.send(speechPackets(560)); // 28 packets
    expect(h.feeder.timestamp).toBe(2 ** 32 - 2 * 960);
    expect(h.feeder.sequence).toBe(65_534);
    h.feeder.lose(4); // the hole straddles both wraps
    expect(h.feeder.timestamp).toBe(2 * 960);
    expect(h.feeder.sequence).toBe(2);
    h.feeder.send(speechPackets(1000));
    h.clock.advance(1100);
    expect(durations(h.segments)).toEqual([560 + 80 + 1000]);
    expect(h.metrics.get('audio_concealed_ms')).toBe(80);
    expect(h.metrics.get('audio_late_packets')).toBe(0);
  });

  it('a timestamp jump of about 2^31 (either way) never inserts more than the capped silence', () => {
    for (const jump of [2 ** 31 - 960, 2 ** 31, 2 ** 31 + 960]) {
      const h = makeHarness();
      h.feeder.send(speechPackets(1000));
      h.feeder.jumpTimestamp(jump);
      h.feeder.send(speechPackets(1000));
      h.clock.advance(1100);
      expect(durations(h.segments), `jump ${jump}`).toEqual([1000, 1000]);
      expect(h.metrics.get('audio_inserted_silence_ms')).toBe(0);
      expect(h.metrics.get('audio_concealed_ms')).toBe(0);
    }
  });

  it('a new SSRC ends the segment even when sequence and timestamp run on', () => {
    const h = makeHarness({}, { ssrc: 111 });
    h.feeder.send(speechPackets(1000));
    h.feeder.ssrc = 222;
    h.feeder.send(speechPackets(1000));
    h.clock.advance(1100);
    expect(durations(h.segments)).toEqual([1000, 1000]);
    expect(h.segments.map((s) => s.meta.startedAt)).toEqual([T0, T0 + 1000]);
  });

  it('without the reorder buffer (reorderHoldMs 0), drops duplicates and reordered late packets without splitting or lengthening', () => {
    const h = makeHarness({ reorderHoldMs: 0 });
    const packets = speechPackets(1000);
    h.feeder.send(packets.slice(0, 20));
    const { sequence, timestamp } = h.feeder;
    // Packet 20 is late: 21 and 22 arrive first (20 is concealed), then 20, then 22 again.
    h.feeder.lose(1);
    h.feeder.send(packets.slice(21, 23));
    h.feeder.sequence = sequence;
    h.feeder.timestamp = timestamp;
    h.feeder.sendOne(packets[20]!);
    h.feeder.sequence = (sequence + 2) & 0xffff;
    h.feeder.timestamp = timestamp + 2 * 960;
    h.feeder.sendOne(packets[22]!);
    h.feeder.send(packets.slice(23));
    h.clock.advance(1100);
    expect(durations(h.segments)).toEqual([1000]);
    expect(h.metrics.get('audio_late_packets')).toBe(2);
    expect(h.metrics.get('audio_concealed_ms')).toBe(20);
  });

  it('puts a late packet back in its slot: 21 and 22 before 20 give the same PCM as in-order delivery; a duplicate is dropped', async () => {
    const packets = speechPackets(1000);
    const reference = makeHarness();
    reference.feeder.send(packets);
    reference.clock.advance(1100);

    const h = makeHarness();
    h.feeder.send(packets.slice(0, 20));
    const { sequence, timestamp } = h.feeder;
    h.feeder.lose(1);
    h.feeder.send(packets.slice(21, 23)); // held: 20 is missing
    h.feeder.sequence = sequence;
    h.feeder.timestamp = timestamp;
    h.feeder.sendOne(packets[20]!); // 40 ms late: fills its slot, 21 and 22 follow
    h.feeder.sequence = (sequence + 2) & 0xffff;
    h.feeder.timestamp = timestamp + 2 * 960;
    h.feeder.sendOne(packets[22]!); // a duplicate
    h.feeder.send(packets.slice(23));
    h.clock.advance(1100);

    expect(durations(h.segments)).toEqual([1000]);
    expect(h.metrics.get('audio_reordered_packets')).toBe(1);
    expect(h.metrics.get('audio_late_packets')).toBe(1);
    expect(h.metrics.get('audio_concealed_ms')).toBe(0);
    expect(await segmentPcm(h.segments[0]!)).toEqual(await segmentPcm(reference.segments[0]!));
  });

  it('a swapped pair gives the same PCM as in-order delivery (and differs from concealing the slot)', async () => {
    const packets = speechPackets(600);
    const inOrder = makeHarness();
    inOrder.feeder.send(packets);
    inOrder.clock.advance(1100);

    const swapped = makeHarness();
    const plc = makeHarness({ reorderHoldMs: 0 });
    for (const h of [swapped, plc]) {
      h.feeder.send(packets.slice(0, 10));
      const { sequence, timestamp } = h.feeder;
      h.feeder.lose(1);
      h.feeder.sendOne(packets[11]!);
      h.feeder.sequence = sequence;
      h.feeder.timestamp = timestamp;
      h.feeder.sendOne(packets[10]!);
      h.feeder.sequence = (sequence + 2) & 0xffff;
      h.feeder.timestamp = timestamp + 2 * 960;
      h.clock.advance(20);
      h.feeder.send(packets.slice(12));
      h.clock.advance(1100);
    }
    const expected = await segmentPcm(inOrder.segments[0]!);
    expect(await segmentPcm(swapped.segments[0]!)).toEqual(expected);
    expect(swapped.metrics.get('audio_reordered_packets')).toBe(1);
    expect(swapped.metrics.get('audio_late_packets')).toBe(0);
    // The comparison can fail: without the buffer the slot is concealed and the PCM differs.
    expect(plc.metrics.get('audio_concealed_ms')).toBe(20);
    expect(await segmentPcm(plc.segments[0]!)).not.toEqual(expected);
    expect(swapped.segments[0]!.meta.durationMs).toBe(600);
  });

  it('a real loss is concealed once the hold expires, and packets after it keep their RTP slots', () => {
    const h = makeHarness();
    const packets = speechPackets(1000);
    h.feeder.send(packets.slice(0, 20));
    h.feeder.lose(1);
    h.feeder.send(packets.slice(21));
    h.clock.advance(1100);
    expect(durations(h.segments)).toEqual([1000]);
    expect(h.metrics.get('audio_concealed_ms')).toBe(20);
    expect(h.metrics.get('audio_reordered_packets')).toBe(0);
    expect(h.metrics.get('audio_late_packets')).toBe(0);
  });

  it('packets held when the speaker goes quiet are placed by checkIdle before the seal, and flush() places them too', () => {
    const h = makeHarness();
    const packets = speechPackets(500);
    h.feeder.send(packets.slice(0, 20));
    h.feeder.lose(1);
    h.feeder.send(packets.slice(21, 25)); // the talk spurt ends with packets held behind the lost one
    h.clock.advance(1100);
    expect(durations(h.segments)).toEqual([500]);

    // flush() with packets still held (well within the hold time): all of them end up in the sealed segment.
    const f = makeHarness();
    f.feeder.send(packets.slice(0, 20));
    f.feeder.lose(1);
    f.feeder.sendOne(packets[21]!);
    f.feeder.sendOne(packets[22]!);
    f.segmenter.flush();
    expect(durations(f.segments)).toEqual([460]);
    expect(f.metrics.get('audio_concealed_ms')).toBe(20);
  });

  it('a new SSRC places the old stream\'s held packets in the old segment first', () => {
    const h = makeHarness({}, { ssrc: 111 });
    const packets = speechPackets(1000);
    h.feeder.send(packets.slice(0, 20));
    h.feeder.lose(1);
    h.feeder.sendOne(packets[21]!); // held
    h.feeder.ssrc = 222;
    h.feeder.send(packets.slice(22, 47));
    h.clock.advance(1100);
    // 20 frames + the concealed one + 21 in the first segment; the new stream alone in the second.
    expect(durations(h.segments)).toEqual([440, 500]);
  });

  it('splits 40 s of speech at the quietest frame of the last second before 30 s', async () => {
    const h = makeHarness();
    const tone = (ms: number): Int16Array => toneBurst([220, 450, 910], ms, { sampleRate: 48_000, channels: 2, amplitude: 0.3 });
    // A 60 ms pause at 29.40–29.46 s: the quietest frames inside the 29–30 s search window.
    const pcm48 = concatPcm(tone(29_400), silencePcm(60, 48_000, 2), tone(40_000 - 29_460));
    h.feeder.send(encode48kStereo(pcm48));
    h.clock.advance(1100);
    expect(h.segments).toHaveLength(2);
    const [head, tail] = h.segments as [Segment, Segment];
    expect(head.meta.durationMs).toBeLessThanOrEqual(30_000);
    expect(head.meta.durationMs).toBeGreaterThanOrEqual(29_400);
    expect(head.meta.durationMs).toBeLessThanOrEqual(29_480);
    expect(head.meta.durationMs + tail.meta.durationMs).toBe(40_000);
    expect(tail.meta.startedAt).toBe(head.meta.startedAt + head.meta.durationMs);
    expect(head.byteLength).toBe(head.meta.durationMs * BYTES_PER_MS);
    expect(h.metrics.get('segments_split')).toBe(1);
    // The tail was copied intact: it starts in the pause and continues the tone right after it.
    const tailPcm = await segmentPcm(tail);
    expect(levelAt(tailPcm, 0)).toBeLessThan(-40);
    expect(levelAt(tailPcm, 100)).toBeGreaterThan(-25);
    // Only the slabs each segment needs are held; everything else is back in the pool.
    const held = (s: Segment): number => (s as SlabSegment).slabCount;
    expect(held(head)).toBe(Math.ceil(head.byteLength / 65_536));
    expect(h.pool.freeCount).toBe(h.pool.slabCount - held(head) - held(tail));
  });

  it('discards digital silence, −60 dBFS noise and bare silence frames', () => {
    const h = makeHarness();
    h.feeder.send(silencePackets(3000));
    h.clock.advance(1100);
    h.feeder.send(noisePackets(3000, -60));
    h.clock.advance(1100);
    h.feeder.send(Array.from({ length: 50 }, () => OPUS_SILENCE));
    h.clock.advance(1100);
    expect(h.segments).toHaveLength(0);
    expect(h.metrics.get('segments_discarded_silence')).toBe(3);
    expect(h.pool.freeCount).toBe(h.pool.slabCount);
  });

  it('does not emit less than 100 ms of speech', () => {
    const h = makeHarness();
    h.feeder.send(speechPackets(60));
    h.feeder.send(silencePackets(500));
    h.clock.advance(1100);
    expect(h.segments).toHaveLength(0);
    expect(h.metrics.get('segments_discarded_silence')).toBe(1);
  });
});

describe('SpeakerSegmenter: damaged input', () => {
  it('conceals a corrupt packet, counts it, and keeps the duration true', () => {
    const h = makeHarness();
    const packets = speechPackets(1000);
    const corrupt = Buffer.from([0x03, 0x00]); // code-3 packet announcing 0 frames
    expect(() => new OpusEncoder(16_000, 1).decode(corrupt)).toThrow(/corrupted/);
    packets[10] = corrupt;
    h.feeder.send(packets);
    h.clock.advance(1100);
    expect(durations(h.segments)).toEqual([1000]);
    expect(h.metrics.get('audio_corrupt_packets')).toBe(1);
    expect(h.metrics.get('audio_concealed_ms')).toBe(20);
  });

  it('counts garbage that decodes to more or less than 20 ms as corrupt and conceals its slot', () => {
    const probe = new OpusEncoder(16_000, 1);
    const random = mulberry32(42);
    const found = new Map<'long' | 'short', Buffer>();
    for (let i = 0; i < 5000 && found.size < 2; i++) {
      const bytes = Buffer.from(Array.from({ length: 40 }, () => Math.floor(random() * 256)));
      try {
        const n = probe.decode(bytes).length;
        if (n > FRAME_BYTES) found.set('long', bytes);
        else if (n < FRAME_BYTES) found.set('short', bytes);
      } catch {
        /* corrupt: not what this test needs */
      }
    }
    expect(found.size).toBe(2);
    const h = makeHarness();
    const packets = speechPackets(1000);
    packets[10] = found.get('long')!;
    packets[30] = found.get('short')!;
    h.feeder.send(packets);
    h.clock.advance(1100);
    expect(durations(h.segments)).toEqual([1000]);
    expect(h.segments[0]!.byteLength).toBe(32_000);
    expect(h.metrics.get('audio_corrupt_packets')).toBe(2);
    expect(h.metrics.get('audio_concealed_ms')).toBe(40);
  });

  it('counts a decrypt failure and conceals its slot once (RTP is the authority)', () => {
    const h = makeHarness();
    const packets = speechPackets(1000);
    h.feeder.send(packets.slice(0, 20));
    h.segmenter.onLostPacket();
    h.feeder.lose(1);
    h.feeder.send(packets.slice(21));
    h.clock.advance(1100);
    expect(durations(h.segments)).toEqual([1000]);
    expect(h.metrics.get('audio_decrypt_failures')).toBe(1);
    expect(h.metrics.get('audio_concealed_ms')).toBe(20);
  });

  it('without RTP, uses arrival time: pauses split, holes are concealed, decrypt failures fill their slot', () => {
    const h = makeHarness({}, { rtp: false });
    const first = speechPackets(2000);
    h.feeder.send(first.slice(0, 50));
    h.segmenter.onLostPacket(); // arriving 20 ms late is within jitter, but we were told it is lost
    h.feeder.lose(1);
    h.feeder.send(first.slice(51));
    h.feeder.pause(1500);
    const second = speechPackets(1000);
    h.feeder.send(second.slice(0, 20));
    h.feeder.lose(5); // 100 ms hole, seen by arrival time alone
    h.feeder.send(second.slice(25));
    h.clock.advance(1100);
    expect(durations(h.segments)).toEqual([2000, 1000]);
    expect(h.segments[1]!.meta.startedAt).toBe(T0 + 3500);
    expect(h.metrics.get('audio_concealed_ms')).toBe(120);
    expect(h.metrics.get('audio_decrypt_failures')).toBe(1);
  });

  it('without RTP, tolerates jittery arrival without adding audio', () => {
    const h = makeHarness({}, { rtp: false });
    const packets = speechPackets(1000);
    for (let i = 0; i < packets.length; i++) {
      h.segmenter.onPacket(packets[i]!, null);
      h.clock.advance(i % 2 === 0 ? 35 : 5); // bursts of two, 20 ms on average
    }
    h.clock.advance(1100);
    expect(durations(h.segments)).toEqual([1000]);
  });
  it('without RTP, re-anchors after a burst so a later hole is still concealed', () => {
    const h = makeHarness({}, { rtp: false });
    const p = speechPackets(2000);
    h.feeder.send(p.slice(0, 25));
    for (const packet of p.slice(25, 50)) h.segmenter.onPacket(packet, null); // 500 ms of audio in one instant
    h.clock.advance(20);
    h.feeder.send(p.slice(50, 75));
    h.feeder.lose(5);
    h.feeder.send(p.slice(80));
    h.clock.advance(1100);
    expect(durations(h.segments)).toEqual([2000]);
    expect(h.metrics.get('audio_concealed_ms')).toBe(100);
  });
});

describe('SpeakerSegmenter: fixed memory', () => {
  it('drops and counts audio when the pool is exhausted; never throws, never grows, signals pressure', () => {
    const h = makeHarness({ poolBytes: 4 * 65_536 });
    expect(() => h.feeder.send(speechPackets(10_000))).not.toThrow();
    h.clock.advance(1100);
    const capacityFrames = Math.floor((4 * 65_536) / FRAME_BYTES); // 409 whole frames fit
    expect(durations(h.segments)).toEqual([capacityFrames * 20]);
    expect(h.metrics.get('audio_dropped_ms')).toBe(10_000 - capacityFrames * 20);
    expect(h.pool.slabCount).toBe(4);
    expect(h.pool.byteLength).toBe(4 * 65_536);
    expect(h.pool.freeCount).toBe(0);
    expect(h.pressureCalls.count).toBe(1);
    h.segments[0]!.release();
    expect(h.pool.freeCount).toBe(4);
  });

  it('yields slab views without copying and releases its slabs exactly once', async () => {
    const h = makeHarness();
    h.feeder.send(speechPackets(3000)); // 96,000 bytes: two slabs
    h.clock.advance(1100);
    const seg = h.segments[0]!;
    const chunks: Uint8Array[] = [];
    for await (const c of seg.chunks()) chunks.push(c);
    expect(chunks.map((c) => c.length)).toEqual([65_536, 96_000 - 65_536]);
    expect(chunks[0]).toBe(h.pool.slab(0)); // the pool's own view object
    expect(chunks[1]!.buffer).toBe(h.pool.slab(0).buffer);
    expect((await segmentPcm(seg)).length).toBe(96_000); // chunks() can be read again (upload retry)
    expect(h.pool.freeCount).toBe(h.pool.slabCount - 2);
    seg.release();
    expect(h.pool.freeCount).toBe(h.pool.slabCount);
    seg.release();
    expect(h.pool.freeCount).toBe(h.pool.slabCount);
    expect(() => [...(seg.chunks() as Iterable<Uint8Array>)]).toThrow(expect.objectContaining({ code: 'AUDIO_SEGMENT_RELEASED' }));
  });

  it('keeps working after many segments: every slab comes back', () => {
    const h = makeHarness({ poolBytes: 16 * 65_536 });
    for (let i = 0; i < 20; i++) {
      h.feeder.send(speechPackets(1500));
      h.feeder.pause(1200);
      for (const s of h.segments.splice(0)) s.release();
    }
    expect(h.metrics.get('segments_emitted')).toBe(20);
    expect(h.pool.freeCount).toBe(16);
  });

  it('shares a capped decoder pool: a second speaker drops audio until the first one goes idle', () => {
    const clock = new ManualClock(T0);
    const metrics = new Metrics();
    const options = { maxDecoders: 1, decoderIdleMs: 2000 };
    const pool = new PcmSlabPool(options, { metrics });
    const decoders = new DecoderPool(undefined, options);
    const got: Segment[] = [];
    const deps = { pool, decoders, clock, metrics, onSegment: (s: Segment) => got.push(s) };
    const alice = new SpeakerSegmenter({ ...BASE_META, userId: '1' }, deps, options);
    const bob = new SpeakerSegmenter({ ...BASE_META, userId: '2' }, deps, options);
    const aliceFeed = new PacketFeeder(alice, clock);
    const bobFeed = new PacketFeeder(bob, clock);
    aliceFeed.send(speechPackets(500));
    bobFeed.send(speechPackets(200));
    expect(metrics.get('audio_decoder_unavailable')).toBe(10);
    expect(metrics.get('audio_dropped_ms')).toBe(200);
    clock.advance(2000);
    alice.checkIdle(clock.now());
    expect(alice.hasDecoder).toBe(false);
    bobFeed.send(speechPackets(500));
    bob.close();
    expect(got.map((s) => [s.meta.userId, s.meta.durationMs])).toEqual([
      ['1', 500],
      ['2', 500],
    ]);
    expect(decoders.created).toBe(1);
    expect(decoders.idle).toBe(1);
  });

  it('releases a segment whose consumer throws, and keeps going', () => {
    const clock = new ManualClock(T0);
    const metrics = new Metrics();
    const pool = new PcmSlabPool();
    const seg = new SpeakerSegmenter(BASE_META, {
      pool,
      decoders: new DecoderPool(),
      clock,
      metrics,
      onSegment: () => {
        throw new Error('consumer bug');
      },
    });
    const feeder = new PacketFeeder(seg, clock);
    feeder.send(speechPackets(500));
    expect(() => seg.flush()).not.toThrow();
    expect(metrics.get('segments_callback_errors')).toBe(1);
    expect(pool.freeCount).toBe(pool.slabCount);
  });
});
