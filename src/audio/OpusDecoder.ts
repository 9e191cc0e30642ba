import { createRequire } from 'node:module';
import { SAMPLE_RATE } from './Segment.js';

/** The one thing the audio path needs from an Opus decoder (tests may pass the real one or a stub). */
export interface OpusDecoder {
  /**
   * Decodes one packet to 16 kHz mono s16le and returns a NEW Buffer. An empty packet runs packet-loss
   * concealment. Throws on corrupt data.
   */
  decode(packet: Buffer): Buffer;
  /** Clears the decoder's history so a reused decoder starts fresh (optional; see DecoderPool). */
  reset?(): void;
}

/** libopus `OPUS_RESET_STATE` request: clears the decoder's state without reallocating it. */
const OPUS_RESET_STATE = 4028;

type OpusModule = typeof import('@discordjs/opus');
type NativeOpus = InstanceType<OpusModule['OpusEncoder']>;

// @discordjs/opus is CommonJS whose exports Node's ESM loader cannot see statically; require it.
const requireCjs = createRequire(import.meta.url);

/**
 * The real decoder: @discordjs/opus decoding straight to 16 kHz mono (libopus resamples internally,
 * 6× less PCM than 48 kHz stereo). Its `decode` copies the native output into a new Buffer on every call;
 * that copy is the library's and cannot be avoided (there is no decode-into API).
 */
export class NativeOpusDecoder implements OpusDecoder {
  private readonly native: NativeOpus;

  constructor() {
    const { OpusEncoder } = requireCjs('@discordjs/opus') as OpusModule;
    this.native = new OpusEncoder(SAMPLE_RATE, 1);
  }

  /** Decodes one packet (empty = PLC: 5,760 samples, 360 ms at 16 kHz). */
  decode(packet: Buffer): Buffer {
    return this.native.decode(packet);
  }

  /** Resets the libopus decoder state in place (opus_decoder_ctl(OPUS_RESET_STATE); the value is ignored). */
  reset(): void {
    this.native.applyDecoderCTL(OPUS_RESET_STATE, 0);
  }
}

/** Default factory for {@link DecoderPool}. */
export function createOpusDecoder(): OpusDecoder {
  return new NativeOpusDecoder();
}
