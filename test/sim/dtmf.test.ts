import { OpusEncoder } from '@discordjs/opus';
import { describe, expect, it } from 'vitest';
import { decodeDtmf, dtmfFrequencies, dtmfPcm } from './audio/dtmf.js';
import {
  concatPcm,
  downmix,
  downmix48kStereoTo16kMono,
  noisePcm,
  resampleMono,
  rmsDbfs,
  silencePcm,
  toneBurst,
} from './audio/signals.js';

/** 20 ms at 48 kHz, per channel: one Discord Opus frame. */
const FRAME = 960;

interface OpusTripOptions {
  /** Indices of 20 ms packets lost on the way. */
  lost?: readonly number[];
  /** 'silence': the receiver fills a lost frame with 20 ms of zeros; 'drop': it just goes missing. */
  lossMode?: 'silence' | 'drop';
}

/**
 * What the bot hears: 48 kHz stereo encoded by libopus in 20 ms packets (like Discord clients) and
 * decoded by libopus straight to 16 kHz mono (like tinyscribe's receiver).
 */
function throughOpus(pcm48kStereo: Int16Array, opts: OpusTripOptions = {}): Int16Array {
  const encoder = new OpusEncoder(48_000, 2);
  const decoder = new OpusEncoder(16_000, 1);
  const lost = new Set(opts.lost ?? []);
  const step = FRAME * 2;
  const padded = new Int16Array(Math.ceil(pcm48kStereo.length / step) * step);
  padded.set(pcm48kStereo);
  const out: Buffer[] = [];
  for (let offset = 0, index = 0; offset < padded.length; offset += step, index++) {
    const packet = encoder.encode(Buffer.from(padded.buffer, offset * 2, step * 2));
    if (lost.has(index)) {
      if (opts.lossMode !== 'drop') out.push(Buffer.alloc(320 * 2));
      continue;
    }
    const decoded = decoder.decode(packet);
    // Proves the decoder really produced 16 kHz mono (320 samples per 20 ms).
    expect(decoded.length).toBe(640);
    out.push(decoded);
  }
  const joined = Buffer.concat(out);
  return new Int16Array(joined.buffer, joined.byteOffset, joined.length / 2);
}

describe('signals', () => {
  it('silence and seeded noise have the requested size and level', () => {
    expect(silencePcm(20, 48_000, 2).length).toBe(1920);
    expect(rmsDbfs(silencePcm(20, 16_000, 1))).toBe(-Infinity);
    const a = noisePcm(500, -60, 16_000, 1, 42);
    const b = noisePcm(500, -60, 16_000, 1, 42);
    const c = noisePcm(500, -60, 16_000, 1, 43);
    expect(a.length).toBe(8000);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).toBe(false);
    expect(rmsDbfs(a)).toBeGreaterThan(-61);
    expect(rmsDbfs(a)).toBeLessThan(-59);
  });

  it('tones have the expected level and concat keeps order', () => {
    // Full-scale sine is −3 dBFS RMS; amplitude 0.5 → about −9 dBFS.
    const tone = toneBurst(1000, 100, { sampleRate: 16_000, channels: 1, amplitude: 0.5 });
    expect(rmsDbfs(tone)).toBeCloseTo(-9.03, 1);
    const joined = concatPcm(silencePcm(10, 16_000, 1), tone);
    expect(joined.length).toBe(160 + 1600);
    expect(joined[100]).toBe(0);
    expect(joined[160 + 4]).toBe(tone[4]);
  });

  it('downmix and resample keep a 1 kHz tone and reject content above the new Nyquist', () => {
    const stereo = toneBurst(1000, 200, { sampleRate: 48_000, channels: 2, amplitude: 0.5 });
    const mono = downmix48kStereoTo16kMono(stereo);
    expect(mono.length).toBe(3200);
    expect(rmsDbfs(mono.subarray(400, 2800))).toBeCloseTo(-9.03, 0);
    const high = resampleMono(toneBurst(12_000, 200, { sampleRate: 48_000, channels: 1, amplitude: 0.5 }), 48_000, 16_000);
    expect(rmsDbfs(high.subarray(400, 2800))).toBeLessThan(-45);
    const leftOnly = new Int16Array([1000, 0, -1000, 0]);
    expect([...downmix(leftOnly, 2)]).toEqual([500, -500]);
  });
});

describe('dtmfPcm', () => {
  it('lays out lead, tones, gaps and trail', () => {
    const pcm = dtmfPcm('12', { sampleRate: 8000, channels: 1, toneMs: 100, gapMs: 50, leadMs: 20, trailMs: 30 });
    expect(pcm.length).toBe(8 * (20 + 100 + 50 + 100 + 30));
    expect(rmsDbfs(pcm.subarray(0, 160))).toBe(-Infinity);
    expect(rmsDbfs(pcm.subarray(160, 960))).toBeGreaterThan(-20);
    expect(rmsDbfs(pcm.subarray(960, 1360))).toBe(-Infinity);
    const stereo = dtmfPcm('5');
    expect(stereo.length).toBe(4800 * 2);
    expect(stereo[1000]).toBe(stereo[1001]);
  });

  it('uses the standard frequency pairs and rejects other symbols', () => {
    expect(dtmfFrequencies('1')).toEqual([697, 1209]);
    expect(dtmfFrequencies('0')).toEqual([941, 1336]);
    expect(dtmfFrequencies('*')).toEqual([941, 1209]);
    expect(dtmfFrequencies('#')).toEqual([941, 1477]);
    expect(dtmfFrequencies('d')).toEqual([941, 1633]);
    expect(dtmfFrequencies('E')).toBeUndefined();
    expect(() => dtmfPcm('12x')).toThrow(expect.objectContaining({ code: 'SIM_DTMF_BAD_DIGIT' }));
  });
});

describe('decodeDtmf', () => {
  const strings = ['0123456789', '*#ABCD', '1122', '000', '9*9#9', '7'];

  it.each(strings)('round-trips %s at 16 kHz mono', (digits) => {
    expect(decodeDtmf(dtmfPcm(digits, { sampleRate: 16_000, channels: 1 }), 16_000)).toBe(digits);
  });

  it('works at 8 kHz and 48 kHz too', () => {
    expect(decodeDtmf(dtmfPcm('159#', { sampleRate: 8000, channels: 1 }), 8000)).toBe('159#');
    expect(decodeDtmf(downmix(dtmfPcm('159#'), 2), 48_000)).toBe('159#');
  });

  it.each(strings)('round-trips %s through real Opus (48k stereo → 16k mono)', (digits) => {
    const heard = throughOpus(dtmfPcm(digits, { leadMs: 40, trailMs: 40 }));
    expect(decodeDtmf(heard, 16_000)).toBe(digits);
  });

  it('handles the shortest standard timing (40 ms tones, 40 ms gaps) and quiet or loud tones through Opus', () => {
    expect(decodeDtmf(throughOpus(dtmfPcm('1122334455', { toneMs: 40, gapMs: 40, leadMs: 40 })), 16_000)).toBe(
      '1122334455',
    );
    expect(decodeDtmf(throughOpus(dtmfPcm('1#1', { amplitude: 0.03, leadMs: 40 })), 16_000)).toBe('1#1');
    expect(decodeDtmf(throughOpus(dtmfPcm('1#1', { amplitude: 1, leadMs: 40 })), 16_000)).toBe('1#1');
  });

  it('tolerates moderate background noise', () => {
    const tones = dtmfPcm('8080', { sampleRate: 16_000, channels: 1, leadMs: 100, trailMs: 100 });
    const noise = noisePcm(1000, -35, 16_000, 1, 9);
    const mixed = new Int16Array(tones.length);
    for (let i = 0; i < mixed.length; i++) mixed[i] = tones[i]! + (noise[i % noise.length] ?? 0);
    expect(decodeDtmf(mixed, 16_000)).toBe('8080');
  });

  it('returns "" for silence and noise, raw or through Opus', () => {
    expect(decodeDtmf(silencePcm(1000, 16_000, 1), 16_000)).toBe('');
    expect(decodeDtmf(new Int16Array(0), 16_000)).toBe('');
    expect(decodeDtmf(throughOpus(silencePcm(1000, 48_000, 2)), 16_000)).toBe('');
    for (const seed of [1, 2, 3]) {
      expect(decodeDtmf(throughOpus(noisePcm(1000, -60, 48_000, 2, seed)), 16_000)).toBe('');
      // Loud noise passes the level gate but has no dominant tone pair.
      expect(decodeDtmf(noisePcm(1000, -20, 16_000, 1, seed), 16_000)).toBe('');
    }
  });

  it('does not hear a single tone or a chord as a digit', () => {
    const single = toneBurst(697, 300, { sampleRate: 16_000, channels: 1 });
    const chord = toneBurst([697, 770, 1209], 300, { sampleRate: 16_000, channels: 1 });
    expect(decodeDtmf(single, 16_000)).toBe('');
    expect(decodeDtmf(chord, 16_000)).toBe('');
  });

  // Layout with leadMs 40: packet k covers [20k, 20k+20) ms; digit i sounds at 40+160i … 140+160i ms.
  it('survives 2 lost packets in a gap between repeated digits (filled with silence)', () => {
    const pcm = dtmfPcm('1122', { leadMs: 40, trailMs: 40 });
    expect(decodeDtmf(throughOpus(pcm, { lost: [8, 9] }), 16_000)).toBe('1122');
    expect(decodeDtmf(throughOpus(pcm, { lost: [16, 17] }), 16_000)).toBe('1122');
  });

  it('survives 2 packets that go missing entirely (audio gets shorter)', () => {
    // A 100 ms gap keeps 60 ms after losing 40 ms, so the repeat is still separated.
    const repeats = dtmfPcm('1122', { leadMs: 40, trailMs: 40, gapMs: 100 });
    expect(decodeDtmf(throughOpus(repeats, { lost: [9, 10], lossMode: 'drop' }), 16_000)).toBe('1122');
    // Different digits need no gap at all.
    const distinct = dtmfPcm('1234', { leadMs: 40, trailMs: 40 });
    expect(decodeDtmf(throughOpus(distinct, { lost: [8, 9], lossMode: 'drop' }), 16_000)).toBe('1234');
  });

  it('bridges one lost packet anywhere (a 20 ms hole does not split a digit)', () => {
    const pcm = dtmfPcm('1122', { leadMs: 40, trailMs: 40 });
    const packets = Math.ceil(pcm.length / (FRAME * 2));
    for (let k = 0; k < packets; k++) {
      expect(decodeDtmf(throughOpus(pcm, { lost: [k] }), 16_000), `lost packet ${k}`).toBe('1122');
    }
  });
});
