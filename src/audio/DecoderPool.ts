import { resolveAudioOptions, type AudioOptions } from './AudioOptions.js';
import { createOpusDecoder, type OpusDecoder } from './OpusDecoder.js';

/**
 * Reuses Opus decoders instead of creating and freeing one per speaker: freeing @discordjs/opus
 * objects has crashed Node 24 (mismatched new[]/delete in its native code, discordjs/opus#206).
 * Decoders are created lazily up to `maxDecoders` and never destroyed; a released decoder is reset
 * and kept for the next speaker.
 */
export class DecoderPool {
  private readonly idleStack: OpusDecoder[] = [];
  private readonly factory: () => OpusDecoder;
  private readonly maxDecoders: number;
  private readonly resetPlcCalls: number;
  private readonly emptyPacket = Buffer.alloc(0);
  private createdCount = 0;

  constructor(factory: () => OpusDecoder = createOpusDecoder, options: Partial<AudioOptions> = {}) {
    const o = resolveAudioOptions(options);
    this.factory = factory;
    this.maxDecoders = o.maxDecoders;
    this.resetPlcCalls = o.decoderResetPlcCalls;
  }

  /** Decoders created so far (never more than maxDecoders). */
  get created(): number {
    return this.createdCount;
  }

  /** Decoders waiting for a speaker. */
  get idle(): number {
    return this.idleStack.length;
  }

  /** Decoders held by speakers. */
  get inUse(): number {
    return this.createdCount - this.idleStack.length;
  }

  /**
   * A decoder for a speaker who started talking: a reused one, else a new one while under the cap,
   * else null (the caller drops audio; it must not block). Allocates only when creating.
   */
  acquire(): OpusDecoder | null {
    const reused = this.idleStack.pop();
    if (reused !== undefined) return reused;
    if (this.createdCount >= this.maxDecoders) return null;
    const decoder = this.factory();
    this.createdCount++;
    return decoder;
  }

  /**
   * Gives a decoder back after its speaker went quiet. Its state is cleared now (not on acquire) so the
   * next speaker's first packet is not delayed: through reset() when the decoder has it, otherwise by
   * running a few PLC calls, which fade the concealment history to silence.
   */
  release(decoder: OpusDecoder): void {
    if (this.idleStack.includes(decoder)) return; // idempotent: a second release must not duplicate it
    if (decoder.reset) {
      decoder.reset();
    } else {
      for (let i = 0; i < this.resetPlcCalls; i++) decoder.decode(this.emptyPacket);
    }
    this.idleStack.push(decoder);
  }
}
