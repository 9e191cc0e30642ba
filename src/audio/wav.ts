import { TinyscribeError } from '../util/errors.js';
import { SAMPLE_RATE } from './Segment.js';

/** A canonical PCM WAV header (RIFF + fmt + data chunk headers) is exactly 44 bytes. */
export const WAV_HEADER_BYTES = 44;

/** What {@link parseWavHeader} found. */
export interface WavInfo {
  readonly sampleRate: number;
  readonly channels: number;
  readonly bitsPerSample: number;
  /** Offset of the first PCM byte. */
  readonly dataOffset: number;
  /** Length of the PCM data as the header states it. */
  readonly dataBytes: number;
}

/**
 * Writes a 44-byte 16-bit PCM WAV header for `dataBytes` bytes of audio at `target[offset]`.
 * Returns the number of bytes written (44).
 */
export function writeWavHeader(
  target: Buffer,
  offset: number,
  dataBytes: number,
  sampleRate: number = SAMPLE_RATE,
  channels = 1,
): number {
  if (offset < 0 || offset + WAV_HEADER_BYTES > target.length) {
    throw new TinyscribeError('AUDIO_WAV_RANGE', `WAV header does not fit at offset ${offset} of a ${target.length}-byte buffer`);
  }
  // RIFF sizes are u32; a 30 s segment is under 1 MB, so this only guards against bugs.
  if (!Number.isInteger(dataBytes) || dataBytes < 0 || dataBytes > 0xffffffff - 36) {
    throw new TinyscribeError('AUDIO_WAV_RANGE', `WAV data size ${dataBytes} is out of range`);
  }
  const bitsPerSample = 16;
  const blockAlign = (channels * bitsPerSample) / 8;
  target.write('RIFF', offset, 'latin1');
  target.writeUInt32LE(36 + dataBytes, offset + 4);
  target.write('WAVE', offset + 8, 'latin1');
  target.write('fmt ', offset + 12, 'latin1');
  target.writeUInt32LE(16, offset + 16); // fmt chunk size for plain PCM
  target.writeUInt16LE(1, offset + 20); // format 1 = PCM
  target.writeUInt16LE(channels, offset + 22);
  target.writeUInt32LE(sampleRate, offset + 24);
  target.writeUInt32LE(sampleRate * blockAlign, offset + 28);
  target.writeUInt16LE(blockAlign, offset + 32);
  target.writeUInt16LE(bitsPerSample, offset + 34);
  target.write('data', offset + 36, 'latin1');
  target.writeUInt32LE(dataBytes, offset + 40);
  return WAV_HEADER_BYTES;
}

/**
 * Reads the header of a 16-bit PCM WAV file (ours are 44 bytes; other chunks such as LIST are skipped).
 * `buf` must contain at least everything up to the data chunk's header. Throws `AUDIO_BAD_WAV`.
 */
export function parseWavHeader(buf: Uint8Array): WavInfo {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const fail = (why: string): never => {
    throw new TinyscribeError('AUDIO_BAD_WAV', `Not a 16-bit PCM WAV file: ${why}`);
  };
  if (b.length < 12 || b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WAVE') fail('no RIFF/WAVE');
  let pos = 12;
  let fmt: { channels: number; sampleRate: number; bitsPerSample: number } | undefined;
  while (pos + 8 <= b.length) {
    const id = b.toString('latin1', pos, pos + 4);
    const size = b.readUInt32LE(pos + 4);
    const body = pos + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > b.length) fail('short fmt chunk');
      const format = b.readUInt16LE(body);
      // 0xFFFE (extensible) is accepted only when it carries plain PCM at 16 bits, checked below.
      if (format !== 1 && format !== 0xfffe) fail(`format ${format} is not PCM`);
      fmt = { channels: b.readUInt16LE(body + 2), sampleRate: b.readUInt32LE(body + 4), bitsPerSample: b.readUInt16LE(body + 14) };
      if (fmt.bitsPerSample !== 16) fail(`${fmt.bitsPerSample} bits per sample`);
      if (fmt.channels < 1 || fmt.sampleRate < 1) fail('zero channels or sample rate');
    } else if (id === 'data') {
      if (!fmt) fail('data chunk before fmt chunk');
      return { ...fmt!, dataOffset: body, dataBytes: size };
    }
    pos = body + size + (size & 1); // chunks are padded to even sizes
  }
  return fail('no data chunk');
}
