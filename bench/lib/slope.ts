/** A point of a time series: seconds, value. */
export interface SeriesPoint {
  readonly t: number;
  readonly v: number;
}

/** Least-squares slope of v over t (units of v per second); 0 with fewer than two distinct times. */
export function leastSquaresSlope(points: readonly SeriesPoint[]): number {
  const n = points.length;
  if (n < 2) return 0;
  let st = 0;
  let sv = 0;
  for (const p of points) {
    st += p.t;
    sv += p.v;
  }
  const mt = st / n;
  const mv = sv / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.v - mv);
    den += (p.t - mt) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** RSS slope in MB per hour over the points after `warmupSeconds` (bytes in, MB = 2^20 bytes). */
export function slopeMbPerHour(points: readonly SeriesPoint[], warmupSeconds: number): number {
  const after = points.filter((p) => p.t >= warmupSeconds);
  return (leastSquaresSlope(after) * 3600) / (1024 * 1024);
}

/** Median of the values (NaN when empty). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
