import type { AudioSource } from '../../../src/audio/Segment.js';

/** Deterministic PCM bytes (every byte differs from its neighbours so misplaced bytes show). */
export function patternPcm(bytes: number, seed = 7): Buffer {
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (i * 31 + seed + (i >> 8)) & 0xff;
  return out;
}

/**
 * An AudioSource over fixed chunks: synchronous like PcmSlabPool slabs, or asynchronous (one macrotask per chunk)
 * like a spool file. Counts chunks() calls; `byteLength` may be set wrong on purpose.
 */
export class ChunkedSource implements AudioSource {
  readonly byteLength: number;
  calls = 0;

  constructor(
    readonly parts: readonly Uint8Array[],
    readonly mode: 'sync' | 'async' = 'sync',
    byteLength?: number,
  ) {
    this.byteLength = byteLength ?? parts.reduce((n, p) => n + p.byteLength, 0);
  }

  chunks(): Iterable<Uint8Array> | AsyncIterable<Uint8Array> {
    this.calls++;
    const parts = this.parts;
    if (this.mode === 'sync') return parts;
    return (async function* () {
      for (const part of parts) {
        await new Promise((r) => setImmediate(r));
        yield part;
      }
    })();
  }
}

/** Splits `pcm` into chunks of the given sizes (the rest becomes a last chunk). */
export function split(pcm: Buffer, sizes: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let pos = 0;
  for (const size of sizes) {
    out.push(pcm.subarray(pos, pos + size));
    pos += size;
  }
  if (pos < pcm.length) out.push(pcm.subarray(pos));
  return out;
}
