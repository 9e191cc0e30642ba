/*
 * PcmSlabPool: all decoded PCM of the process lives in ONE Buffer allocated at start, cut into equal
 * slabs. A segment owns a list of slab indices; nothing on the receive path ever allocates PCM memory.
 *
 *   buffer (poolBytes, allocated once)
 *   +-----------+-----------+-----------+-- ... --+-------------+
 *   |  slab 0   |  slab 1   |  slab 2   |         |  slab n-1   |   n = floor(poolBytes / slabBytes)
 *   +-----------+-----------+-----------+-- ... --+-------------+
 *   views[i] = buffer.subarray(i * slabBytes, (i + 1) * slabBytes), created once in the constructor.
 *
 *   free stack (Int32Array, capacity n)
 *   +---+---+---+---+---+-----------------+
 *   | 4 | 3 | 2 | 1 | 0 |  (unused)       |   indices [0, top) are free
 *   +---+---+---+---+---+-----------------+
 *                       ^ top
 *   alloc(): top === 0 ? -1 (counted) : free[--top]       O(1)
 *   free(i): free[top++] = i                              O(1)
 *   inUse (Uint8Array, n): 1 while a slab is handed out, so a double free or a foreign index is caught.
 *
 * Low-water mark: when an alloc leaves fewer than lowWater free slabs, onPressure fires once; it is
 * re-armed when frees bring the count back to lowWater. The upload side answers by spilling sealed
 * segments to disk (which frees their slabs).
 *
 * Full-pool policy: alloc() returns -1; the segmenter drops that 20 ms frame and counts it (audio_dropped_ms).
 * The receive path never blocks, never throws and never allocates more PCM; spilled speech is counted too
 * (pool_pressure_spilled_ms_total). Sizing: PCM_POOL_MB (default 8 MiB = 128 slabs of 64 KiB = 2.048 s each,
 * ≈ 4.4 min of 16 kHz mono s16 across all speakers); Buffer.alloc commits every page at start, so RSS does not
 * grow with speakers, time or outages.
 */
import { TinyscribeError } from '../util/errors.js';
import type { Metrics } from '../util/Metrics.js';
import { resolveAudioOptions, type AudioOptions } from './AudioOptions.js';
import { AUDIO_METRIC, defineAudioMetrics } from './audioMetrics.js';

/** Collaborators of a {@link PcmSlabPool}. */
export interface PcmSlabPoolDeps {
  /** Called (synchronously, inside alloc) when free slabs fall below the low-water mark. Must not throw. */
  onPressure?: () => void;
  metrics?: Metrics;
}

/** A fixed set of equal PCM slabs cut from one preallocated Buffer (see the diagram at the top of the file). */
export class PcmSlabPool {
  readonly slabBytes: number;
  readonly slabCount: number;
  /** Free slabs below this count mean pressure. */
  readonly lowWater: number;
  /** Allocations that found the pool empty. */
  allocFailures = 0;

  private readonly buffer: Buffer;
  private readonly views: Buffer[];
  private readonly freeStack: Int32Array;
  private readonly inUse: Uint8Array;
  private top: number;
  private pressured = false;
  private readonly onPressure: (() => void) | undefined;
  private readonly metrics: Metrics | undefined;

  constructor(options: Partial<AudioOptions> = {}, deps: PcmSlabPoolDeps = {}) {
    const o = resolveAudioOptions(options);
    this.slabBytes = o.slabBytes;
    this.slabCount = Math.floor(o.poolBytes / o.slabBytes);
    this.lowWater = Math.ceil(this.slabCount * o.lowWaterFraction);
    // Buffer.alloc (not allocUnsafe) touches every page now: the memory is committed at start, so the
    // process's footprint does not creep up later when speech arrives.
    this.buffer = Buffer.alloc(this.slabCount * this.slabBytes);
    this.views = new Array<Buffer>(this.slabCount);
    this.freeStack = new Int32Array(this.slabCount);
    this.inUse = new Uint8Array(this.slabCount);
    for (let i = 0; i < this.slabCount; i++) {
      this.views[i] = this.buffer.subarray(i * this.slabBytes, (i + 1) * this.slabBytes);
      // Pushed in reverse so alloc() hands out 0, 1, 2, … first (predictable in tests and dumps).
      this.freeStack[i] = this.slabCount - 1 - i;
    }
    this.top = this.slabCount;
    this.onPressure = deps.onPressure;
    this.metrics = deps.metrics;
    // The pool is built once at start: register the audio path's counters (with help texts) here, so the hot
    // path only ever adds to existing entries.
    if (deps.metrics) defineAudioMetrics(deps.metrics);
  }

  /** Slabs currently free. */
  get freeCount(): number {
    return this.top;
  }

  /** True between falling below the low-water mark and climbing back to it. */
  get underPressure(): boolean {
    return this.pressured;
  }

  /** Total bytes of the pool's one Buffer. */
  get byteLength(): number {
    return this.buffer.length;
  }

  /** Takes a free slab; returns its index, or -1 when the pool is empty (counted). O(1), allocates nothing. */
  alloc(): number {
    if (this.top === 0) {
      this.allocFailures++;
      this.metrics?.inc(AUDIO_METRIC.slabAllocFailures);
      this.firePressure();
      return -1;
    }
    const index = this.freeStack[--this.top]!;
    this.inUse[index] = 1;
    if (this.top < this.lowWater) this.firePressure();
    return index;
  }

  /** Returns a slab to the pool. O(1). Throws `AUDIO_SLAB_FREE` on a double free or unknown index (a bug). */
  free(index: number): void {
    if (!(index >= 0 && index < this.slabCount) || this.inUse[index] !== 1) {
      throw new TinyscribeError('AUDIO_SLAB_FREE', `Slab ${index} is not allocated (double free or foreign index)`);
    }
    this.inUse[index] = 0;
    this.freeStack[this.top++] = index;
    if (this.pressured && this.top >= this.lowWater) this.pressured = false;
  }

  /** The slab's view (the same Buffer object every time; no allocation). */
  slab(index: number): Buffer {
    const view = this.views[index];
    if (view === undefined) throw new TinyscribeError('AUDIO_SLAB_INDEX', `No slab ${index}`);
    return view;
  }

  private firePressure(): void {
    if (this.pressured) return;
    this.pressured = true;
    this.onPressure?.();
  }
}
