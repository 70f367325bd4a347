// Summary statistics for benchmark samples. Pure functions, unit-tested in test/unit/bench.
//
// Quantiles use linear interpolation between the two closest ranks (the "type 7" definition used by
// numpy and R by default). With the small sample counts we take (10-20), nearest-rank would jump a
// whole sample at a time; interpolation moves smoothly and is what readers usually expect.

export interface Summary {
  n: number;
  median: number;
  p90: number;
  min: number;
  max: number;
  mean: number;
}

/** Ascending copy; the input is left alone, and NaN samples are a caller bug, so they throw. */
export function sortedCopy(xs: readonly number[]): number[] {
  for (const x of xs) if (Number.isNaN(x)) throw new Error('sample is NaN');
  return [...xs].sort((a, b) => a - b);
}

/** q in [0, 1] of an ascending array; throws on an empty one (there is no honest answer). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new Error('quantile of no samples');
  if (q < 0 || q > 1) throw new Error(`quantile ${q} outside [0, 1]`);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

export function quantile(xs: readonly number[], q: number): number {
  return quantileSorted(sortedCopy(xs), q);
}

export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

/** Summary of the samples, or null when there are none (e.g. every run of a scenario timed out). */
export function summarize(xs: readonly number[]): Summary | null {
  if (xs.length === 0) return null;
  const s = sortedCopy(xs);
  const sum = s.reduce((acc, x) => acc + x, 0);
  return {
    n: s.length,
    median: quantileSorted(s, 0.5),
    p90: quantileSorted(s, 0.9),
    min: s[0] as number,
    max: s[s.length - 1] as number,
    mean: sum / s.length,
  };
}

/** a / b, or null when it has no meaning (a missing side, or a zero denominator). */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return a / b;
}
