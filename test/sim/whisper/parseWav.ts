/**
 * Strict WAV reader for the Whisper stand-in. tinyscribe promises exact headers (no 0xFFFFFFFF
 * "unknown length" tricks), so every size field must agree with the bytes actually present.
 */
import { TinyscribeError } from '../../../src/util/errors.js';

/** A WAV file's format and its PCM. */
export interface ParsedWav {
  readonly sampleRate: number;
  readonly channels: number;
  /** Sample frames (samples per channel). */
  readonly frames: number;
  readonly durationSec: number;
  /** Size of the data chunk in bytes. */
  readonly pcmBytes: number;
  /** Interleaved s16 samples (an aligned copy). */
  readonly pcm: Int16Array;
}

/** Why a file is not an acceptable WAV; `code` is one of the WAV_* codes below. */
export class WavError extends TinyscribeError {}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** Parses a RIFF/WAVE file of 16-bit PCM, checking every size field against the bytes present. */
export function parseWav(file: Buffer): ParsedWav {
  if (file.length < 12 || file.toString('latin1', 0, 4) !== 'RIFF' || file.toString('latin1', 8, 12) !== 'WAVE') {
    throw new WavError('WAV_NOT_RIFF', 'not a RIFF/WAVE file');
  }
  const riffSize = file.readUInt32LE(4);
  if (riffSize !== file.length - 8) {
    throw new WavError('WAV_RIFF_SIZE_MISMATCH', `RIFF size says ${riffSize} bytes but ${file.length - 8} follow`);
  }

  let format: { sampleRate: number; channels: number; blockAlign: number } | undefined;
  let data: Buffer | undefined;
  let pos = 12;
  while (pos < file.length) {
    if (file.length - pos < 8) throw new WavError('WAV_TRUNCATED', `partial chunk header at byte ${pos}`);
    const id = file.toString('latin1', pos, pos + 4);
    const size = file.readUInt32LE(pos + 4);
    const bodyStart = pos + 8;
    const available = file.length - bodyStart;
    if (size > available) {
      const code = id === 'data' ? 'WAV_DATA_SIZE_MISMATCH' : 'WAV_TRUNCATED';
      throw new WavError(code, `chunk '${id}' says ${size} bytes but only ${available} are present`);
    }
    const body = file.subarray(bodyStart, bodyStart + size);
    if (id === 'fmt ') {
      if (format) throw new WavError('WAV_BAD_FMT', 'more than one fmt chunk');
      format = parseFmt(body);
    } else if (id === 'data') {
      if (!format) throw new WavError('WAV_NO_FMT', 'data chunk before fmt chunk');
      if (data) throw new WavError('WAV_BAD_DATA', 'more than one data chunk');
      data = body;
    }
    // Chunks are word-aligned: an odd size is followed by one pad byte (which a final chunk may omit).
    pos = bodyStart + size + (size % 2 === 1 && bodyStart + size < file.length ? 1 : 0);
  }
  // The walk ends exactly at the end of the file, so a data chunk can neither overrun nor leave bytes uncovered.

  if (!format) throw new WavError('WAV_NO_FMT', 'no fmt chunk');
  if (!data) throw new WavError('WAV_NO_DATA', 'no data chunk');
  if (data.length % format.blockAlign !== 0) {
    throw new WavError('WAV_DATA_SIZE_MISMATCH', `data size ${data.length} is not a multiple of ${format.blockAlign}`);
  }
  // Copy so the samples are 2-byte aligned whatever the part's offset inside the request body was.
  const pcm = new Int16Array(data.length / 2);
  Buffer.from(pcm.buffer).set(data);
  const frames = data.length / format.blockAlign;
  return {
    sampleRate: format.sampleRate,
    channels: format.channels,
    frames,
    durationSec: frames / format.sampleRate,
    pcmBytes: data.length,
    pcm,
  };
}

function parseFmt(fmt: Buffer): { sampleRate: number; channels: number; blockAlign: number } {
  if (fmt.length < 16) throw new WavError('WAV_BAD_FMT', `fmt chunk is ${fmt.length} bytes, need 16`);
  let audioFormat = fmt.readUInt16LE(0);
  const channels = fmt.readUInt16LE(2);
  const sampleRate = fmt.readUInt32LE(4);
  const byteRate = fmt.readUInt32LE(8);
  const blockAlign = fmt.readUInt16LE(12);
  const bitsPerSample = fmt.readUInt16LE(14);
  // WAVE_FORMAT_EXTENSIBLE carries the real format in the first two bytes of its sub-format GUID.
  if (audioFormat === WAVE_FORMAT_EXTENSIBLE && fmt.length >= 40) audioFormat = fmt.readUInt16LE(24);
  if (audioFormat !== WAVE_FORMAT_PCM) throw new WavError('WAV_UNSUPPORTED', `audio format ${audioFormat} is not PCM`);
  if (bitsPerSample !== 16) throw new WavError('WAV_UNSUPPORTED', `${bitsPerSample}-bit samples, need 16-bit`);
  if (channels < 1 || sampleRate < 1) throw new WavError('WAV_BAD_FMT', `channels ${channels}, rate ${sampleRate}`);
  if (blockAlign !== channels * 2 || byteRate !== sampleRate * blockAlign) {
    throw new WavError('WAV_BAD_FMT', `inconsistent fmt: blockAlign ${blockAlign}, byteRate ${byteRate}`);
  }
  return { sampleRate, channels, blockAlign };
}
