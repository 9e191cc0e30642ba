/**
 * Test harness for the audio path: real Opus packets (libopus at 48 kHz stereo, like a Discord client),
 * a ManualClock-driven idle timer like the voice session's, and a feeder that stamps RTP fields.
 */
import { OpusEncoder } from '@discordjs/opus';
import { DecoderPool } from '../../src/audio/DecoderPool.js';
import type { AudioOptions } from '../../src/audio/AudioOptions.js';
import { defineAudioMetrics } from '../../src/audio/audioMetrics.js';
import { PcmSlabPool } from '../../src/audio/PcmSlabPool.js';
import type { Segment } from '../../src/audio/Segment.js';
import { SpeakerSegmenter, type RtpInfo, type SegmentMetaBase } from '../../src/audio/SpeakerSegmenter.js';
import { Metrics } from '../../src/util/Metrics.js';
import { ManualClock } from '../util/ManualClock.js';
import { noisePcm, silencePcm, toneBurst } from '../sim/audio/signals.js';

export const T0 = 1_700_000_000_000;
/** 48 kHz stereo samples (per channel) in one 20 ms packet. */
const FRAME_48K = 960;
/** The 3-byte Opus silence frame clients send at the end of a talk spurt. */
export const OPUS_SILENCE = Buffer.from([0xf8, 0xff, 0xfe]);

export const BASE_META: SegmentMetaBase = {
  guildId: '100000000000000001',
  voiceChannelId: '100000000000000002',
  textChannelId: '100000000000000003',
  userId: '100000000000000004',
  sessionId: 'session-1',
};

/** Encodes interleaved 48 kHz stereo PCM into 20 ms Opus packets (last one zero-padded). */
export function encode48kStereo(pcm: Int16Array, encoder = new OpusEncoder(48_000, 2)): Buffer[] {
  const step = FRAME_48K * 2;
  const padded = new Int16Array(Math.ceil(pcm.length / step) * step);
  padded.set(pcm);
  const packets: Buffer[] = [];
  for (let offset = 0; offset < padded.length; offset += step) {
    packets.push(encoder.encode(Buffer.from(padded.buffer, padded.byteOffset + offset * 2, step * 2)));
  }
  return packets;
}

/** `ms` of a speech stand-in: three summed tones at 0.3 of full scale (≈ −16 dBFS RMS). */
export function speechPackets(ms: number, amplitude = 0.3): Buffer[] {
  return encode48kStereo(toneBurst([220, 450, 910], ms, { sampleRate: 48_000, channels: 2, amplitude }));
}

/** `ms` of Opus-coded digital silence (not F8 FF FE: real encoded zeros). */
export function silencePackets(ms: number): Buffer[] {
  return encode48kStereo(silencePcm(ms, 48_000, 2));
}

/** `ms` of Opus-coded white noise at `dbfs`. */
export function noisePackets(ms: number, dbfs: number): Buffer[] {
  return encode48kStereo(noisePcm(ms, dbfs, 48_000, 2, 7));
}

/** All PCM of a segment as one Buffer (tests only; the product never joins chunks). */
export async function segmentPcm(segment: Segment): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of segment.chunks()) parts.push(chunk);
  return Buffer.concat(parts);
}

export interface Harness {
  clock: ManualClock;
  metrics: Metrics;
  pool: PcmSlabPool;
  decoders: DecoderPool;
  segmenter: SpeakerSegmenter;
  segments: Segment[];
  feeder: PacketFeeder;
  pressureCalls: { count: number };
}

/** Builds pool, decoder pool, segmenter and a 100 ms idle timer on a ManualClock. */
export function makeHarness(options: Partial<AudioOptions> = {}, feederOptions: FeederOptions = {}): Harness {
  const clock = new ManualClock(T0);
  const metrics = new Metrics();
  defineAudioMetrics(metrics);
  const pressureCalls = { count: 0 };
  const pool = new PcmSlabPool(options, { metrics, onPressure: () => pressureCalls.count++ });
  const decoders = new DecoderPool(undefined, options);
  const segments: Segment[] = [];
  const segmenter = new SpeakerSegmenter(BASE_META, { pool, decoders, clock, metrics, onSegment: (s) => segments.push(s) }, options);
  // Like the voice session: a timer on the injected clock calls checkIdle.
  const tick = (): void => {
    segmenter.checkIdle(clock.now());
    clock.setTimeout(tick, 100);
  };
  clock.setTimeout(tick, 100);
  const feeder = new PacketFeeder(segmenter, clock, feederOptions);
  return { clock, metrics, pool, decoders, segmenter, segments, feeder, pressureCalls };
}

export interface FeederOptions {
  /** Send RTP fields (default) or null, as when the UDP tap is unavailable. */
  rtp?: boolean;
  sequence?: number;
  timestamp?: number;
  ssrc?: number;
}

/** Delivers packets at real pacing (20 ms of ManualClock per packet), stamping sequence and timestamp. */
export class PacketFeeder {
  sequence: number;
  timestamp: number;
  ssrc: number | undefined;
  private readonly useRtp: boolean;
  // One reused object, as the session passes its tap.
  private readonly header: { sequence: number; timestamp: number; ssrc?: number } = { sequence: 0, timestamp: 0 };

  constructor(
    private readonly segmenter: SpeakerSegmenter,
    private readonly clock: ManualClock,
    options: FeederOptions = {},
  ) {
    this.useRtp = options.rtp ?? true;
    this.sequence = options.sequence ?? 1000;
    this.timestamp = options.timestamp ?? 48_000_000;
    this.ssrc = options.ssrc;
  }

  /** Sends each packet, then lets 20 ms pass. */
  send(packets: readonly Buffer[]): void {
    for (const packet of packets) {
      this.sendOne(packet);
      this.clock.advance(20);
    }
  }

  /** Delivers one packet now with the current header, then steps sequence and timestamp. */
  sendOne(packet: Buffer): void {
    let rtp: RtpInfo | null = null;
    if (this.useRtp) {
      this.header.sequence = this.sequence;
      this.header.timestamp = this.timestamp;
      if (this.ssrc !== undefined) this.header.ssrc = this.ssrc;
      rtp = this.header;
    }
    this.segmenter.onPacket(packet, rtp);
    this.sequence = (this.sequence + 1) & 0xffff;
    this.timestamp = (this.timestamp + FRAME_48K) >>> 0;
  }

  /** `frames` packets never arrive: sequence, timestamp and wall time move on. */
  lose(frames: number): void {
    this.sequence = (this.sequence + frames) & 0xffff;
    this.timestamp = (this.timestamp + frames * FRAME_48K) >>> 0;
    this.clock.advance(frames * 20);
  }

  /** The client stops sending for `ms` (DTX): timestamp and wall time move on, sequence does not. */
  pause(ms: number): void {
    this.timestamp = (this.timestamp + (ms / 20) * FRAME_48K) >>> 0;
    this.clock.advance(ms);
  }

  /** The sender's timestamp jumps by `ticks` (mod 2^32) with no wall-clock gap. */
  jumpTimestamp(ticks: number): void {
    this.timestamp = (this.timestamp + ticks) >>> 0;
  }
}
