/**
 * Settings, samples and the summary of the policy datapath benchmark
 * (bench/policy-datapath.ts), and the shape of the JSON it prints. Pure.
 */
import { numberFlag, trafficFlags } from './bench-args.js';
import type { LevelCheck } from './policy-kernel.js';
import { pairedDiffs, pairedRatios, roundSummary, type Summary, summarize } from './stats.js';

export const LEVELS = [0, 100, 1000] as const;
export type Level = (typeof LEVELS)[number];
export type LevelKey = `${Level}`;

export const POLICY_BACKENDS = ['hostgw', 'vxlan'] as const;
export type PolicyBackend = (typeof POLICY_BACKENDS)[number];

export const POLICY_METRICS = ['tcp1Gbps', 'rttP50Us', 'rttP99Us', 'connectP50Us', 'connectP99Us'] as const;
export type PolicyMetric = (typeof POLICY_METRICS)[number];
export type LatencyMetric = Exclude<PolicyMetric, 'tcp1Gbps'>;
const LATENCIES = POLICY_METRICS.filter((m): m is LatencyMetric => m !== 'tcp1Gbps');

/** Issue 14: throughput with 1000 policies at least 0.95 of none. */
export const TARGET = { level: 1000, minTcp1Ratio: 0.95 } as const;

export function parsePolicyArgs(argv: readonly string[]) {
  const flags = trafficFlags(argv, { reps: 5, seconds: 4, rttRounds: 3 });
  return { ...flags, connections: numberFlag(argv, '--connections', flags.quick ? 30 : 400) };
}
export type PolicyOptions = ReturnType<typeof parsePolicyArgs>;

/** Per backend, level and metric: one figure per repetition, in repetition order. */
export type PolicySamples = Record<PolicyBackend, Record<LevelKey, Record<PolicyMetric, number[]>>>;

export function emptyPolicySamples(): PolicySamples {
  const metrics = () => Object.fromEntries(POLICY_METRICS.map((m) => [m, [] as number[]]));
  const levels = () => Object.fromEntries(LEVELS.map((l) => [`${l}`, metrics()]));
  return Object.fromEntries(POLICY_BACKENDS.map((b) => [b, levels()])) as PolicySamples;
}

export type LevelSummary = Record<PolicyMetric, Summary> & {
  /** Per repetition: this level's figure / level 0's (throughput: ≥ 1 is no loss; latency: ≤ 1). */
  readonly ratioToNoPolicy: Record<PolicyMetric, Summary>;
  /** Per repetition: this level's latency − level 0's, µs. */
  readonly addedUs: Record<LatencyMetric, Summary>;
};

export interface PolicySummary {
  readonly backends: Record<PolicyBackend, Record<LevelKey, LevelSummary>>;
  /** The target: the median TCP ratio at 1000 policies, per backend, and whether both meet it. */
  readonly target: {
    readonly level: number;
    readonly minTcp1Ratio: number;
    readonly tcp1Ratio: Record<PolicyBackend, number>;
    readonly met: boolean;
  };
}

const byMetric = <K extends PolicyMetric, T>(ms: readonly K[], f: (m: K) => T) =>
  Object.fromEntries(ms.map((m) => [m, f(m)])) as Record<K, T>;

function levelSummary(s: Record<PolicyMetric, number[]>, base: Record<PolicyMetric, number[]>): LevelSummary {
  return {
    ...byMetric(POLICY_METRICS, (m) => roundSummary(summarize(s[m]), m === 'tcp1Gbps' ? 3 : 1)),
    ratioToNoPolicy: byMetric(POLICY_METRICS, (m) => roundSummary(summarize(pairedRatios(s[m], base[m])), 3)),
    addedUs: byMetric(LATENCIES, (m) => roundSummary(summarize(pairedDiffs(s[m], base[m])), 1)),
  };
}

/** Figures, ratios and added latency per level, each paired with level 0 per repetition first. */
export function summarizePolicySamples(samples: PolicySamples): PolicySummary {
  const backends = Object.fromEntries(
    POLICY_BACKENDS.map((b) => [
      b,
      Object.fromEntries(LEVELS.map((l) => [`${l}`, levelSummary(samples[b][`${l}`], samples[b]['0'])])),
    ]),
  ) as PolicySummary['backends'];
  const at = `${TARGET.level}` as LevelKey;
  const tcp1Ratio = Object.fromEntries(
    POLICY_BACKENDS.map((b) => [b, backends[b][at].ratioToNoPolicy.tcp1Gbps.median]),
  ) as Record<PolicyBackend, number>;
  return {
    backends,
    target: { ...TARGET, tcp1Ratio, met: Object.values(tcp1Ratio).every((r) => r >= TARGET.minTcp1Ratio) },
  };
}

/** Appends one repetition's figures of one (backend, level). */
export function recordLevel(
  samples: PolicySamples,
  backend: PolicyBackend,
  level: Level,
  figures: Record<PolicyMetric, number>,
): void {
  for (const m of POLICY_METRICS) samples[backend][`${level}`][m].push(figures[m]);
}

/** What bench/policy-datapath.ts prints on stdout. */
export interface PolicyDatapathResult extends PolicySummary {
  readonly benchmark: 'policy-datapath';
  readonly settings: PolicyOptions & {
    readonly levels: readonly number[];
    /** How each level's policies divide (see lib/policy-levels.ts levelShape). */
    readonly shape: Record<string, { targeted: number; allows: number; workload: number }>;
    readonly sockperfMessage: number;
  };
  /** The first application of each level per backend, as checked in the kernel. */
  readonly kernel: Record<PolicyBackend, Record<LevelKey, LevelCheck>>;
  readonly samples: PolicySamples;
  readonly loadAvg1m: number;
  readonly durationS: number;
}
