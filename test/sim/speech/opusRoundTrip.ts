import opus from '@discordjs/opus';
import { upsample16kMonoTo48kStereo } from './librivox.js';

/** 20 ms of 48 kHz stereo s16: what one Discord Opus frame carries. */
const FRAME_BYTES_48K_STEREO = 960 * 2 * 2;

/**
 * The codec alone, no bot: a clip upsampled to 48 kHz stereo and Opus-encoded exactly as a simulated
 * speaker does (@discordjs/opus defaults, 20 ms frames, last frame zero-padded), then decoded straight
 * to 16 kHz mono as tinyscribe's decoder does. Recognizing this separates what Discord's codec costs
 * from what the pipeline (segmenting, concealment, upload) costs.
 */
export function opusRoundTrip16kMono(pcm16kMono: Int16Array): Int16Array {
  const stereo = upsample16kMonoTo48kStereo(pcm16kMono);
  const bytes = Buffer.from(stereo.buffer, stereo.byteOffset, stereo.byteLength);
  const encoder = new opus.OpusEncoder(48_000, 2);
  const decoder = new opus.OpusEncoder(16_000, 1);
  const frames = Math.ceil(bytes.length / FRAME_BYTES_48K_STEREO);
  const out = new Int16Array(frames * 320);
  for (let f = 0; f < frames; f++) {
    const frame = Buffer.alloc(FRAME_BYTES_48K_STEREO);
    bytes.copy(frame, 0, f * FRAME_BYTES_48K_STEREO, (f + 1) * FRAME_BYTES_48K_STEREO);
    const decoded = decoder.decode(encoder.encode(frame));
    // Read sample by sample: the native Buffer's byte offset need not be 2-aligned for an Int16Array view.
    for (let i = 0; i < 320 && 2 * i + 1 < decoded.length; i++) out[f * 320 + i] = decoded.readInt16LE(2 * i);
  }
  // Same length as the input (the padding of the last frame is not audio).
  return out.subarray(0, pcm16kMono.length);
}
