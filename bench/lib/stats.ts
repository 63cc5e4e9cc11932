/** Order statistics for benchmark samples (pure). */

/** Median [min–max] over repetitions; `n` counts the finite samples. */
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

/** The q-quantile (0…1) by nearest rank; NaN for no samples. */
export function quantile(samples: readonly number[], q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile q must be within 0…1, got ${q}`);
  const s = samples.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number;
}

/** Median (middle value; mean of the two middle values for an even count). */
export function median(samples: readonly number[]): number {
  const s = samples.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function summarize(samples: readonly number[]): Summary {
  const s = samples.filter(Number.isFinite);
  return {
    median: median(s),
    min: s.length ? Math.min(...s) : Number.NaN,
    max: s.length ? Math.max(...s) : Number.NaN,
    n: s.length,
  };
}

/** Relative spread of a summary: (max − min) / median. */
export function relativeSpread(s: Summary): number {
  return (s.max - s.min) / s.median;
}

/** Rounds to `digits` decimals (keeps NaN). */
export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A summary with its figures rounded to `digits` decimals. */
export const roundSummary = (s: Summary, digits: number): Summary => ({
  median: round(s.median, digits),
  min: round(s.min, digits),
  max: round(s.max, digits),
  n: s.n,
});

/** Per-repetition ratios a[i]/b[i] (a and b measured in the same repetition). */
export function pairedRatios(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length)
    throw new RangeError(`paired samples differ in length: ${a.length} vs ${b.length}`);
  return a.map((x, i) => x / (b[i] as number));
}

/** Per-repetition differences a[i]−b[i]. */
export function pairedDiffs(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length)
    throw new RangeError(`paired samples differ in length: ${a.length} vs ${b.length}`);
  return a.map((x, i) => x - (b[i] as number));
}
