import { describe, expect, it } from 'vitest';
import { DecoderPool } from '../../src/audio/DecoderPool.js';
import { frameRmsDbfs, SILENCE_DBFS } from '../../src/audio/energy.js';
import { createOpusDecoder, type OpusDecoder } from '../../src/audio/OpusDecoder.js';
import { speechPackets } from './harness.js';

describe('DecoderPool', () => {
  it('creates lazily up to maxDecoders, then returns null; reuses released decoders', () => {
    let made = 0;
    const pool = new DecoderPool(
      () => {
        made++;
        return { decode: () => Buffer.alloc(640), reset: () => undefined };
      },
      { maxDecoders: 2 },
    );
    const a = pool.acquire();
    const b = pool.acquire();
    expect(a).not.toBeNull();
    expect(b).not.toBeNull();
    expect(pool.acquire()).toBeNull();
    expect(made).toBe(2);
    pool.release(a!);
    pool.release(a!); // idempotent
    expect(pool.idle).toBe(1);
    expect(pool.inUse).toBe(1);
    expect(pool.acquire()).toBe(a);
    expect(pool.acquire()).toBeNull();
    expect(pool.created).toBe(2);
    expect(made).toBe(2);
  });

  it('flushes a decoder without reset() by running PLC calls on release', () => {
    const calls: number[] = [];
    const decoder: OpusDecoder = {
      decode: (packet) => {
        calls.push(packet.length);
        return Buffer.alloc(11_520);
      },
    };
    const pool = new DecoderPool(() => decoder, { decoderResetPlcCalls: 3 });
    pool.release(pool.acquire()!);
    expect(calls).toEqual([0, 0, 0]);
  });

  it('resets the real decoder: after release, concealment is silence instead of the last speaker', () => {
    const pool = new DecoderPool(createOpusDecoder, { maxDecoders: 1 });
    const decoder = pool.acquire()!;
    const empty = Buffer.alloc(0);
    for (const packet of speechPackets(200)) decoder.decode(packet);
    const concealed = decoder.decode(empty);
    expect(concealed.length).toBe(11_520); // PLC: 5,760 samples = 360 ms at 16 kHz
    expect(frameRmsDbfs(concealed, 0, 640)).toBeGreaterThan(-30); // continues the tone

    for (const packet of speechPackets(200)) decoder.decode(packet);
    pool.release(decoder);
    const reused = pool.acquire()!;
    expect(reused).toBe(decoder);
    expect(frameRmsDbfs(reused.decode(empty), 0, 640)).toBe(SILENCE_DBFS);
  });
});
