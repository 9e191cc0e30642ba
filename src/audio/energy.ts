/** Level reported for digital silence (the log of zero), below any real signal. */
export const SILENCE_DBFS = -100;

/** 20·log10(32768): full scale of a signed 16-bit sample, so a full-scale square wave is 0 dBFS. */
const FULL_SCALE_DB = 90.30899869919435;

/**
 * RMS level in dBFS of `bytes` bytes of s16le PCM starting at `offset` (clamped at {@link SILENCE_DBFS}).
 * Per-frame path: reads the bytes directly instead of through an Int16Array view (a view would be an
 * allocation, and `offset` may be odd inside a pooled Buffer); allocates nothing.
 */
export function frameRmsDbfs(buf: Uint8Array, offset: number, bytes: number): number {
  const end = offset + (bytes & ~1);
  let sum = 0;
  for (let i = offset; i < end; i += 2) {
    const s = ((buf[i]! | (buf[i + 1]! << 8)) << 16) >> 16;
    sum += s * s;
  }
  const samples = (end - offset) >> 1;
  if (samples === 0 || sum === 0) return SILENCE_DBFS;
  const db = 10 * Math.log10(sum / samples) - FULL_SCALE_DB;
  return db < SILENCE_DBFS ? SILENCE_DBFS : db;
}
