import { describe, expect, it } from 'vitest';
import { PcmSlabPool } from '../../src/audio/PcmSlabPool.js';
import { Metrics } from '../../src/util/Metrics.js';

const KIB = 1024;

describe('PcmSlabPool', () => {
  it('cuts one buffer into slabs whose views are created once and share it', () => {
    const pool = new PcmSlabPool({ poolBytes: 8 * 64 * KIB, slabBytes: 64 * KIB });
    expect(pool.slabCount).toBe(8);
    expect(pool.freeCount).toBe(8);
    expect(pool.byteLength).toBe(8 * 64 * KIB);
    const first = pool.slab(0);
    expect(pool.slab(0)).toBe(first); // same object every time: no allocation per call
    expect(first.length).toBe(64 * KIB);
    for (let i = 1; i < 8; i++) {
      expect(pool.slab(i).buffer).toBe(first.buffer);
      expect(pool.slab(i).byteOffset - first.byteOffset).toBe(i * 64 * KIB);
    }
  });

  it('defaults to 8 MiB in 64 KiB slabs', () => {
    const pool = new PcmSlabPool();
    expect(pool.slabCount).toBe(128);
    expect(pool.slabBytes).toBe(65_536);
  });

  it('allocates and frees in O(1) from a stack, lowest index first, and reuses freed slabs', () => {
    const pool = new PcmSlabPool({ poolBytes: 4 * KIB, slabBytes: KIB });
    expect([pool.alloc(), pool.alloc(), pool.alloc()]).toEqual([0, 1, 2]);
    expect(pool.freeCount).toBe(1);
    pool.free(1);
    expect(pool.freeCount).toBe(2);
    expect(pool.alloc()).toBe(1);
    expect(pool.alloc()).toBe(3);
    expect(pool.freeCount).toBe(0);
  });

  it('returns -1 and counts when empty; never grows', () => {
    const metrics = new Metrics();
    const pool = new PcmSlabPool({ poolBytes: 2 * KIB, slabBytes: KIB }, { metrics });
    pool.alloc();
    pool.alloc();
    expect(pool.alloc()).toBe(-1);
    expect(pool.alloc()).toBe(-1);
    expect(pool.allocFailures).toBe(2);
    expect(metrics.get('audio_slab_alloc_failures')).toBe(2);
    expect(pool.slabCount).toBe(2);
    expect(pool.byteLength).toBe(2 * KIB);
  });

  it('rejects double free and foreign indices', () => {
    const pool = new PcmSlabPool({ poolBytes: 2 * KIB, slabBytes: KIB });
    const a = pool.alloc();
    pool.free(a);
    expect(() => pool.free(a)).toThrow(expect.objectContaining({ code: 'AUDIO_SLAB_FREE' }));
    expect(() => pool.free(7)).toThrow(expect.objectContaining({ code: 'AUDIO_SLAB_FREE' }));
    expect(() => pool.free(-1)).toThrow(expect.objectContaining({ code: 'AUDIO_SLAB_FREE' }));
    expect(pool.freeCount).toBe(2);
  });

  it('fires onPressure once when free slabs fall below the low-water mark, and re-arms above it', () => {
    let calls = 0;
    const pool = new PcmSlabPool({ poolBytes: 10 * KIB, slabBytes: KIB, lowWaterFraction: 0.3 }, { onPressure: () => calls++ });
    expect(pool.lowWater).toBe(3);
    const taken = Array.from({ length: 7 }, () => pool.alloc()); // 3 free: not below the mark
    expect(calls).toBe(0);
    taken.push(pool.alloc()); // 2 free
    expect(calls).toBe(1);
    expect(pool.underPressure).toBe(true);
    taken.push(pool.alloc(), pool.alloc()); // 0 free
    expect(pool.alloc()).toBe(-1);
    expect(calls).toBe(1);
    pool.free(taken.pop()!);
    pool.free(taken.pop()!);
    pool.free(taken.pop()!); // 3 free again
    expect(pool.underPressure).toBe(false);
    taken.push(pool.alloc()); // 2 free: fires again
    expect(calls).toBe(2);
  });

  it('validates its options', () => {
    expect(() => new PcmSlabPool({ slabBytes: 100 })).toThrow(expect.objectContaining({ code: 'AUDIO_BAD_OPTIONS' }));
    expect(() => new PcmSlabPool({ poolBytes: 1000, slabBytes: 2048 })).toThrow(/poolBytes/);
  });
});
