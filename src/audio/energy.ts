/**
 * Kept module-private for the arithmetic below: TurboFan does not fold an exported binding into a
 * constant, so `db < SILENCE_DBFS ? SILENCE_DBFS : db` would mix a tagged value with a raw double and
 * box every result (16 bytes per frame, measured).
 */
const FLOOR_DB = -100;

/** Level reported for digital silence (the log of zero), below any real signal. */
export const SILENCE_DBFS: number = FLOOR_DB;

/** 20·log10(32768): full scale of a signed 16-bit sample, so a full-scale square wave is 0 dBFS. */
const FULL_SCALE_DB = 90.30899869919435;

/** One-slot output for {@link frameRmsDbfs}; written and read within one synchronous call. */
const result = new Float64Array(1);

/**
 * RMS level in dBFS of `bytes` bytes of s16le PCM starting at `offset` (clamped at {@link SILENCE_DBFS}).
 * For code that wants a number back; V8 boxes a non-integer returned from a call it does not inline
 * (16 bytes), so the per-frame path uses {@link storeFrameRmsDbfs} instead.
 */
export function frameRmsDbfs(buf: Uint8Array, offset: number, bytes: number): number {
  storeFrameRmsDbfs(result, 0, buf, offset, bytes);
  return result[0]!;
}

/**
 * RMS level in dBFS of `bytes` bytes of s16le PCM at `offset`, written to `target[index]`.
 * Per-frame path: allocates nothing (measured by bench/hotpath.bench.ts). Reads the bytes directly
 * instead of through an Int16Array view (a view would be an allocation, and `offset` may be odd inside a
 * pooled Buffer).
 */
export function storeFrameRmsDbfs(
  target: Float32Array | Float64Array,
  index: number,
  buf: Uint8Array,
  offset: number,
  bytes: number,
): void {
  const end = offset + (bytes & ~1);
  let sum = 0;
  for (let i = offset; i < end; i += 2) {
    const s = ((buf[i]! | (buf[i + 1]! << 8)) << 16) >> 16;
    sum += s * s;
  }
  const samples = (end - offset) >> 1;
  if (samples === 0 || sum === 0) {
    target[index] = FLOOR_DB;
    return;
  }
  const db = 10 * Math.log10(sum / samples) - FULL_SCALE_DB;
  target[index] = db < FLOOR_DB ? FLOOR_DB : db;
}
