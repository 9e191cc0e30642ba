import { describe, expect, it } from 'vitest';
import { frameRmsDbfs, SILENCE_DBFS, storeFrameRmsDbfs } from '../../src/audio/energy.js';

function pcm(samples: number[], leadingBytes = 0): Buffer {
  const buf = Buffer.alloc(leadingBytes + samples.length * 2);
  samples.forEach((s, i) => buf.writeInt16LE(s, leadingBytes + i * 2));
  return buf;
}

describe('frameRmsDbfs', () => {
  it('is 0 dBFS for a full-scale square wave', () => {
    expect(frameRmsDbfs(pcm([-32768, -32768, -32768, -32768]), 0, 8)).toBeCloseTo(0, 6);
  });

  it('is 20·log10(a/√2) for a sine of amplitude a', () => {
    const n = 320;
    const samples = Array.from({ length: n }, (_, i) => Math.round(0.25 * 32768 * Math.sin((2 * Math.PI * 16 * i) / n)));
    expect(frameRmsDbfs(pcm(samples), 0, n * 2)).toBeCloseTo(20 * Math.log10(0.25 / Math.SQRT2), 2);
  });

  it('reads at odd offsets inside a larger buffer and only the given range', () => {
    const buf = pcm([16384, -16384, 16384, -16384], 3);
    buf[0] = 0xff; // bytes outside the range must not count
    expect(frameRmsDbfs(buf, 3, 8)).toBeCloseTo(20 * Math.log10(0.5), 6);
  });

  it('reports digital silence and empty ranges at the floor', () => {
    expect(frameRmsDbfs(Buffer.alloc(640), 0, 640)).toBe(SILENCE_DBFS);
    expect(frameRmsDbfs(Buffer.alloc(640), 0, 0)).toBe(SILENCE_DBFS);
    expect(frameRmsDbfs(pcm([1, -1, 1, -1]), 0, 8)).toBeGreaterThan(-91);
  });
});

describe('storeFrameRmsDbfs', () => {
  it('stores the same level as frameRmsDbfs into a Float32Array slot', () => {
    const buf = pcm([1000, -2000, 3000, -4000, 5000], 1);
    const out = new Float32Array(3);
    storeFrameRmsDbfs(out, 1, buf, 1, 10);
    expect(out[1]).toBeCloseTo(frameRmsDbfs(buf, 1, 10), 4);
    storeFrameRmsDbfs(out, 2, Buffer.alloc(640), 0, 640);
    expect(out[2]).toBe(SILENCE_DBFS);
    expect(out[0]).toBe(0);
  });
});
