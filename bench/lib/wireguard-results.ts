/**
 * Settings, samples, summary and the encryption check of the WireGuard
 * datapath benchmark (bench/wireguard-datapath.ts), and the shape of the JSON
 * it prints. Pure.
 */
import { numberFlag, trafficFlags } from './bench-args.js';
import { pairedDiffs, pairedRatios, roundSummary, type Summary, summarize } from './stats.js';
import type { CaptureVerdict } from './underlay-capture.js';

export const WG_BACKENDS = ['vxlan', 'wireguard'] as const;
export type WgBackend = (typeof WG_BACKENDS)[number];

export const WG_METRICS = [
  'tcp1Gbps',
  'tcp4Gbps',
  'rttP50Us',
  'rttP99Us',
  'connectP50Us',
  'connectP99Us',
] as const;
export type WgMetric = (typeof WG_METRICS)[number];
const THROUGHPUTS: readonly WgMetric[] = ['tcp1Gbps', 'tcp4Gbps'];
export const WG_LATENCIES = WG_METRICS.filter((m) => !THROUGHPUTS.includes(m));
export type WgLatency = Exclude<WgMetric, 'tcp1Gbps' | 'tcp4Gbps'>;

/** WireGuard's port on the wire (net-conf default) and the gossip port: the only classes allowed between the nodes. */
export const WG_PORT = 51820;
export const GOSSIP_PORT = 9743;

export function parseWireguardArgs(argv: readonly string[]) {
  const flags = trafficFlags(argv, { reps: 10, seconds: 5, rttRounds: 3 });
  return { ...flags, connections: numberFlag(argv, '--connections', flags.quick ? 30 : 400) };
}
export type WireguardOptions = ReturnType<typeof parseWireguardArgs>;

/** Per backend and metric: one figure per repetition, in repetition order. */
export type WgSamples = Record<WgBackend, Record<WgMetric, number[]>>;

export function emptyWgSamples(): WgSamples {
  const metrics = () => Object.fromEntries(WG_METRICS.map((m) => [m, [] as number[]]));
  return Object.fromEntries(WG_BACKENDS.map((b) => [b, metrics()])) as WgSamples;
}

/** The backends in the order repetition `rep` measures them: alternating, so neither always goes first. */
export function backendOrder(rep: number): readonly WgBackend[] {
  return rep % 2 === 0 ? WG_BACKENDS : [...WG_BACKENDS].reverse();
}

const byMetric = <K extends WgMetric, T>(ms: readonly K[], f: (m: K) => T) =>
  Object.fromEntries(ms.map((m) => [m, f(m)])) as Record<K, T>;

export interface WgSummary {
  readonly backends: Record<WgBackend, Record<WgMetric, Summary>>;
  /** Per repetition WireGuard ÷ VXLAN (throughput: < 1 is a loss; latency: > 1 is slower). */
  readonly wireguardOverVxlan: Record<WgMetric, Summary>;
  /** Per repetition WireGuard − VXLAN, µs. */
  readonly addedUs: Record<WgLatency, Summary>;
}

export function summarizeWgSamples(s: WgSamples): WgSummary {
  const digits = (m: WgMetric) => (THROUGHPUTS.includes(m) ? 3 : 1);
  const { vxlan, wireguard } = s;
  return {
    backends: Object.fromEntries(
      WG_BACKENDS.map((b) => [b, byMetric(WG_METRICS, (m) => roundSummary(summarize(s[b][m]), digits(m)))]),
    ) as WgSummary['backends'],
    wireguardOverVxlan: byMetric(WG_METRICS, (m) =>
      roundSummary(summarize(pairedRatios(wireguard[m], vxlan[m])), 3),
    ),
    addedUs: byMetric(WG_LATENCIES as WgLatency[], (m) =>
      roundSummary(summarize(pairedDiffs(wireguard[m], vxlan[m])), 1),
    ),
  };
}

/**
 * Why a capture does not prove what it should, or [] when it does. `encrypted`:
 * no pod address in clear, at least `minTunnel` packets on WireGuard's port and
 * nothing between the nodes but that and gossip. Not encrypted (the VXLAN
 * control): the pods' addresses must be visible, else the check could not see them.
 */
export function captureProblems(v: CaptureVerdict, encrypted: boolean, minTunnel: number): string[] {
  if (!encrypted) return v.podInClear > 0 ? [] : ['no pod address seen in clear: the check sees nothing'];
  const problems: string[] = [];
  if (v.podInClear > 0) problems.push(`${v.podInClear} packets show a pod address in clear`);
  const tunnel = v.classes[`udp ${WG_PORT}`] ?? 0;
  if (tunnel < minTunnel) problems.push(`${tunnel} WireGuard packets, want at least ${minTunnel}`);
  const allowed = new Set([`udp ${WG_PORT}`, `tcp ${GOSSIP_PORT}`]);
  for (const [k, n] of Object.entries(v.classes))
    if (!allowed.has(k)) problems.push(`${n} packets of ${k} between the nodes`);
  return problems;
}

/** Pod MTU and tunnel device MTU of one backend, as read from the kernel. */
export interface MtuFacts {
  readonly underlay: number;
  readonly device: string;
  readonly deviceMtu: number;
  readonly pod: number;
}

/** Bytes on the WireGuard client node: weft.wg (inner packets) and its underlay interface (the wire). */
export interface TunnelCounters {
  readonly deviceTx: number;
  readonly deviceRx: number;
  readonly underlayTx: number;
  readonly underlayRx: number;
}

/** Counters `after` − `before`. */
export function counterDelta(before: TunnelCounters, after: TunnelCounters): TunnelCounters {
  return {
    deviceTx: after.deviceTx - before.deviceTx,
    deviceRx: after.deviceRx - before.deviceRx,
    underlayTx: after.underlayTx - before.underlayTx,
    underlayRx: after.underlayRx - before.underlayRx,
  };
}

/** What bench/wireguard-datapath.ts prints on stdout. */
export interface WireguardDatapathResult extends WgSummary {
  readonly benchmark: 'wireguard-datapath';
  readonly settings: WireguardOptions & { readonly sockperfMessage: number; readonly topology: string };
  /** Which WireGuard provided weft.wg: the agent's metric, its status detail, its log line. */
  readonly implementation: { readonly kind: string; readonly detail: string; readonly metric: string };
  readonly mtu: Record<WgBackend, MtuFacts>;
  /** The underlay captures taken before measuring (the VXLAN one is the check's control). */
  readonly encryption: Record<WgBackend, CaptureVerdict>;
  /** Bytes over the measurement on the WireGuard client node: weft.wg against the underlay. */
  readonly tunnelBytes: TunnelCounters;
  /** CPU of wireguard-go on both nodes per TCP ×1 run, % of one core (median over repetitions). */
  readonly wireguardGoCpuPercent: { readonly client: Summary; readonly server: Summary };
  readonly samples: WgSamples;
  readonly loadAvg1m: number;
  readonly durationS: number;
}
