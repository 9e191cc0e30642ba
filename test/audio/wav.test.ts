import { describe, expect, it } from 'vitest';
import { parseWavHeader, WAV_HEADER_BYTES, writeWavHeader } from '../../src/audio/wav.js';

describe('wav', () => {
  it('writes the exact 44-byte PCM header at an offset', () => {
    const buf = Buffer.alloc(50, 0xaa);
    expect(writeWavHeader(buf, 3, 64_000)).toBe(WAV_HEADER_BYTES);
    const h = buf.subarray(3, 47);
    expect(h.toString('hex')).toBe(
      '52494646' + '24fa0000' + '57415645' + '666d7420' + '10000000' + '0100' + '0100' + '803e0000' + '007d0000' + '0200' + '1000' +
        '64617461' + '00fa0000',
    );
    expect(buf[2]).toBe(0xaa);
    expect(buf[47]).toBe(0xaa);
  });

  it('round-trips through parseWavHeader, including stereo 48 kHz', () => {
    const buf = Buffer.alloc(WAV_HEADER_BYTES);
    writeWavHeader(buf, 0, 3840, 48_000, 2);
    expect(parseWavHeader(buf)).toEqual({ sampleRate: 48_000, channels: 2, bitsPerSample: 16, dataOffset: 44, dataBytes: 3840 });
    writeWavHeader(buf, 0, 0);
    expect(parseWavHeader(buf)).toMatchObject({ sampleRate: 16_000, channels: 1, dataBytes: 0 });
  });

  it('skips chunks before data (e.g. LIST)', () => {
    const base = Buffer.alloc(WAV_HEADER_BYTES);
    writeWavHeader(base, 0, 640);
    const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([5, 0, 0, 0]), Buffer.from('abcde'), Buffer.alloc(1)]);
    const file = Buffer.concat([base.subarray(0, 36), list, base.subarray(36)]);
    expect(parseWavHeader(file)).toMatchObject({ dataOffset: 44 + list.length, dataBytes: 640 });
  });

  it('rejects what it cannot read with AUDIO_BAD_WAV', () => {
    const bad = { code: 'AUDIO_BAD_WAV' };
    expect(() => parseWavHeader(Buffer.from('not a wav file at all, clearly'))).toThrow(expect.objectContaining(bad));
    const buf = Buffer.alloc(WAV_HEADER_BYTES);
    writeWavHeader(buf, 0, 10);
    buf.writeUInt16LE(8, 34); // 8-bit
    expect(() => parseWavHeader(buf)).toThrow(expect.objectContaining(bad));
    writeWavHeader(buf, 0, 10);
    expect(() => parseWavHeader(buf.subarray(0, 36))).toThrow(/no data chunk/);
    expect(() => writeWavHeader(Buffer.alloc(43), 0, 0)).toThrow(expect.objectContaining({ code: 'AUDIO_WAV_RANGE' }));
  });
});
