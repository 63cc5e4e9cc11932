import { quantile, round } from './stats.js';

export interface LatencySummary {
  readonly samples: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly maxMs: number | null;
  /** Node × change pairs where the kernel had not taken the change within the timeout. */
  readonly timeouts: number;
}

/** p50/p99/max over every node's latency of every change of one kind (pure). */
export function summarizeLatencies(perChange: readonly (readonly (number | undefined)[])[]): LatencySummary {
  const all = perChange.flat();
  const seen = all.filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  const q = (p: number) => (seen.length ? round(quantile(seen, p), 1) : null);
  return {
    samples: seen.length,
    p50Ms: q(0.5),
    p99Ms: q(0.99),
    maxMs: seen.length ? (seen.at(-1) as number) : null,
    timeouts: all.length - seen.length,
  };
}
