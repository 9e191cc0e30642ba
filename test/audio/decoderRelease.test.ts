/**
 * Decoders go back to the pool when a speaker's segment is sealed on silence (default options), so the pool bounds
 * people talking at the same moment, not people heard in the last few seconds; a max-length split keeps it.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_AUDIO_OPTIONS, type AudioOptions } from '../../src/audio/AudioOptions.js';
import { defineAudioMetrics } from '../../src/audio/audioMetrics.js';
import { DecoderPool } from '../../src/audio/DecoderPool.js';
import { PcmSlabPool } from '../../src/audio/PcmSlabPool.js';
import type { Segment } from '../../src/audio/Segment.js';
import { SpeakerSegmenter } from '../../src/audio/SpeakerSegmenter.js';
import { Metrics } from '../../src/util/Metrics.js';
import { ManualClock } from '../util/ManualClock.js';
import { BASE_META, makeHarness, PacketFeeder, speechPackets, T0 } from './harness.js';

describe('decoder release on silence', () => {
  it('gives the decoder back at the silence seal, not 10 s later', () => {
    const h = makeHarness();
    h.feeder.send(speechPackets(600));
    expect(h.segmenter.hasDecoder).toBe(true);
    h.feeder.pause(DEFAULT_AUDIO_OPTIONS.silenceGapMs + 100); // the 100 ms idle timer has run meanwhile
    expect(h.segments.map((s) => s.meta.durationMs)).toEqual([600]);
    expect({ held: h.segmenter.hasDecoder, idle: h.decoders.idle, created: h.decoders.created }).toEqual({ held: false, idle: 1, created: 1 });
    // The speaker talks again: the same pooled decoder (reset on release), a second segment, nothing dropped.
    h.feeder.send(speechPackets(400));
    h.feeder.pause(DEFAULT_AUDIO_OPTIONS.silenceGapMs + 100);
    expect(h.segments.map((s) => s.meta.durationMs)).toEqual([600, 400]);
    expect({ created: h.decoders.created, unavailable: h.metrics.get('audio_decoder_unavailable') }).toEqual({ created: 1, unavailable: 0 });
  });

  it('keeps the decoder across a max-length split (the speech goes on)', () => {
    const h = makeHarness({ maxSegmentMs: 2_000, splitSearchMs: 200 });
    let heldAtSplit: boolean | undefined;
    const packets = speechPackets(3_000);
    for (const packet of packets) {
      h.feeder.send([packet]);
      if (heldAtSplit === undefined && h.segments.length === 1) heldAtSplit = h.segmenter.hasDecoder;
    }
    expect(h.metrics.get('segments_split')).toBe(1);
    expect({ heldAtSplit, inUse: h.decoders.inUse }).toEqual({ heldAtSplit: true, inUse: 1 });
  });

  /** `n` speakers, each starting `staggerMs` after the previous and talking `talkMs`, on one shared pool. */
  function crowd(n: number, staggerMs: number, talkMs: number, options: Partial<AudioOptions>) {
    const clock = new ManualClock(T0);
    const metrics = new Metrics();
    defineAudioMetrics(metrics);
    const pool = new PcmSlabPool(options, { metrics });
    const decoders = new DecoderPool(undefined, options);
    const segments: Segment[] = [];
    const deps = { pool, decoders, clock, metrics, onSegment: (s: Segment) => segments.push(s) };
    const packets = speechPackets(talkMs);
    const speakers = Array.from({ length: n }, (_, i) => {
      const segmenter = new SpeakerSegmenter({ ...BASE_META, userId: String(i + 1) }, deps, options);
      return { segmenter, feeder: new PacketFeeder(segmenter, clock), startMs: i * staggerMs };
    });
    let peakInUse = 0;
    const endMs = (n - 1) * staggerMs + talkMs + DEFAULT_AUDIO_OPTIONS.silenceGapMs + 200;
    for (let t = 0; t < endMs; t += 20) {
      for (const s of speakers) {
        const k = (t - s.startMs) / 20;
        if (k >= 0 && k < packets.length) s.feeder.sendOne(packets[k]!);
      }
      // Like the session's 100 ms idle timer.
      if (t % 100 === 0) for (const s of speakers) s.segmenter.checkIdle(clock.now());
      peakInUse = Math.max(peakInUse, decoders.inUse);
      clock.advance(20);
    }
    return { segments, metrics, decoders, peakInUse };
  }

  it('40 speakers 100 ms apart on the old cap of 32 decoders: all 40 segments, none dropped', () => {
    const r = crowd(40, 100, 700, { maxDecoders: 32 });
    expect({
      users: r.segments.map((s) => s.meta.userId).sort((a, b) => Number(a) - Number(b)),
      unavailable: r.metrics.get('audio_decoder_unavailable'),
      droppedMs: r.metrics.get('audio_dropped_ms'),
      inUseAtEnd: r.decoders.inUse,
    }).toEqual({ users: Array.from({ length: 40 }, (_, i) => String(i + 1)), unavailable: 0, droppedMs: 0, inUseAtEnd: 0 });
    // Held from first packet to the silence seal (700 + 1,000 ms), so about 17 overlap, not 40.
    expect(r.peakInUse).toBeLessThanOrEqual(20);
  });

  it('by default a full voice channel (99) can all talk at the same moment', () => {
    const r = crowd(99, 0, 200, {});
    expect({ segments: r.segments.length, unavailable: r.metrics.get('audio_decoder_unavailable'), created: r.decoders.created }).toEqual({
      segments: 99,
      unavailable: 0,
      created: 99,
    });
  });
});
