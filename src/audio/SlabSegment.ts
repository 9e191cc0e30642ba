import { TinyscribeError } from '../util/errors.js';
import type { PcmSlabPool } from './PcmSlabPool.js';
import type { Segment, SegmentMeta } from './Segment.js';

/** A sealed segment whose PCM lives in slabs of a {@link PcmSlabPool}; it owns those slabs until release(). */
export class SlabSegment implements Segment {
  readonly id: number;
  readonly meta: SegmentMeta;
  readonly byteLength: number;
  private readonly pool: PcmSlabPool;
  private readonly slabs: Int32Array;
  private released = false;

  /** `slabs` (in order) become this segment's; `byteLength` bytes of them, from the first, are its PCM. */
  constructor(pool: PcmSlabPool, id: number, meta: SegmentMeta, slabs: Int32Array, byteLength: number) {
    if (byteLength > slabs.length * pool.slabBytes) {
      throw new TinyscribeError('AUDIO_SEGMENT_RANGE', `${byteLength} bytes do not fit in ${slabs.length} slabs`);
    }
    this.pool = pool;
    this.id = id;
    this.meta = meta;
    this.slabs = slabs;
    this.byteLength = byteLength;
  }

  /** True once release() ran. */
  get isReleased(): boolean {
    return this.released;
  }

  /** Slabs this segment holds (0 after release). */
  get slabCount(): number {
    return this.released ? 0 : this.slabs.length;
  }

  /** Yields the slab views in order (the last one cut to length); no PCM is copied. Throws after release. */
  *chunks(): Iterable<Uint8Array> {
    let left = this.byteLength;
    for (let i = 0; i < this.slabs.length && left > 0; i++) {
      // Checked per chunk: the slabs may have been handed to someone else since the last yield.
      if (this.released) throw new TinyscribeError('AUDIO_SEGMENT_RELEASED', `Segment ${this.id} was released`);
      const view = this.pool.slab(this.slabs[i]!);
      const n = Math.min(left, view.length);
      yield n === view.length ? view : view.subarray(0, n);
      left -= n;
    }
  }

  /** Returns the slabs to the pool, exactly once. */
  release(): void {
    if (this.released) return;
    this.released = true;
    for (let i = 0; i < this.slabs.length; i++) this.pool.free(this.slabs[i]!);
  }
}
