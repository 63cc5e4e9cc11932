/**
 * Settings, samples, summary and the path checks of the dual-stack benchmark
 * (bench/datapath-ipv6.ts): pod↔pod TCP over IPv4 and over IPv6 between the same
 * two pods, host-gw and VXLAN, in pairs. Pure.
 */
import { trafficFlags } from './bench-args.js';
import { pairedRatios, roundSummary, type Summary, summarize } from './stats.js';
import type { CapturedPacket } from './underlay-capture.js';

export const V6_BACKENDS = ['hostgw', 'vxlan'] as const;
export type V6Backend = (typeof V6_BACKENDS)[number];
export const FAMILIES = ['ipv4', 'ipv6'] as const;
export type Family = (typeof FAMILIES)[number];
export const V6_METRICS = ['tcp1Gbps', 'tcp4Gbps'] as const;
export type V6Metric = (typeof V6_METRICS)[number];

export function parseIpv6Args(argv: readonly string[]) {
  const { quick, reps, seconds } = trafficFlags(argv, { reps: 10, seconds: 5, rttRounds: 1 });
  return { quick, reps, seconds };
}
export type Ipv6Options = ReturnType<typeof parseIpv6Args>;

/** Per backend, family and metric: one figure per repetition, in repetition order. */
export type V6Samples = Record<V6Backend, Record<Family, Record<V6Metric, number[]>>>;

export function emptyV6Samples(): V6Samples {
  const metrics = () => Object.fromEntries(V6_METRICS.map((m) => [m, [] as number[]]));
  const families = () => Object.fromEntries(FAMILIES.map((f) => [f, metrics()]));
  return Object.fromEntries(V6_BACKENDS.map((b) => [b, families()])) as V6Samples;
}

/**
 * The order of repetition `rep`: backends and, within each pair, the two families alternate,
 * so neither family always runs first (a load burst from elsewhere lands on both alike).
 */
export function pairOrder(rep: number): { backends: readonly V6Backend[]; families: readonly Family[] } {
  const flip = rep % 2 === 1;
  return {
    backends: flip ? [...V6_BACKENDS].reverse() : V6_BACKENDS,
    families: flip ? [...FAMILIES].reverse() : FAMILIES,
  };
}

export interface V6Summary {
  readonly backends: Record<V6Backend, Record<Family, Record<V6Metric, Summary>>>;
  /** Per backend, IPv6 ÷ IPv4 of the same pair (same repetition, measured back to back). */
  readonly ipv6OverIpv4: Record<V6Backend, Record<V6Metric, Summary>>;
}

const byKey = <K extends string, T>(ks: readonly K[], f: (k: K) => T) =>
  Object.fromEntries(ks.map((k) => [k, f(k)])) as Record<K, T>;

export function summarizeV6Samples(s: V6Samples): V6Summary {
  return {
    backends: byKey(V6_BACKENDS, (b) =>
      byKey(FAMILIES, (f) => byKey(V6_METRICS, (m) => roundSummary(summarize(s[b][f][m]), 3))),
    ),
    ipv6OverIpv4: byKey(V6_BACKENDS, (b) =>
      byKey(V6_METRICS, (m) => roundSummary(summarize(pairedRatios(s[b].ipv6[m], s[b].ipv4[m])), 3)),
    ),
  };
}

/** Throws unless every connection of an iperf3 run went from `local` to `remote` (the family's addresses). */
export function checkConnected(
  what: string,
  connected: readonly { local: string; remote: string }[] | undefined,
  local: string,
  remote: string,
): void {
  if (!connected || connected.length === 0) throw new Error(`${what}: iperf3 reported no connection`);
  const wrong = connected.filter((c) => c.local !== local || c.remote !== remote);
  if (wrong.length > 0)
    throw new Error(
      `${what}: iperf3 connected ${wrong.map((c) => `${c.local} → ${c.remote}`).join(', ')}, want ${local} → ${remote}`,
    );
}

/** One VXLAN packet on the underlay: the outer IPv4 packet's length, the inner packet's, its family. */
export interface Encapsulated {
  readonly family: Family;
  readonly outerBytes: number;
  readonly innerBytes: number;
  /** Outer IPv4 + UDP + VXLAN + inner Ethernet header: what the tunnel costs per packet. */
  readonly overhead: number;
}

/** The VXLAN packets (UDP to `port`) among captured IPv4 packets, with inner and outer lengths. */
export function encapsulated(packets: readonly CapturedPacket[], port: number): Encapsulated[] {
  const out: Encapsulated[] = [];
  for (const p of packets) {
    if (p.proto !== 'udp' || p.dstPort !== port) continue;
    const ip = 14;
    const outerBytes = p.bytes.readUInt16BE(ip + 2);
    const inner = ip + ((p.bytes[ip] as number) & 0x0f) * 4 + 8 + 8;
    if (p.bytes.length < inner + 14 + 8) continue;
    const type = p.bytes.readUInt16BE(inner + 12);
    const l3 = inner + 14;
    const innerBytes =
      type === 0x86dd
        ? 40 + p.bytes.readUInt16BE(l3 + 4)
        : type === 0x0800
          ? p.bytes.readUInt16BE(l3 + 2)
          : 0;
    if (innerBytes === 0) continue;
    out.push({
      family: type === 0x86dd ? 'ipv6' : 'ipv4',
      outerBytes,
      innerBytes,
      overhead: outerBytes - innerBytes,
    });
  }
  return out;
}

/** What the benchmark checked on node n1 before measuring a backend. */
export interface PathCheck {
  /** SyncResult on n1: the route kind chosen for n2 per family. */
  readonly routeKind: Record<Family, string>;
  /** n1's kernel route to n2's podCIDR per family (`ip -4/-6 route show <podCIDR>`). */
  readonly route: Record<Family, string>;
  /** Largest packet (the pod MTU) crossed per family: ping -M do / ping -6 with its size. */
  readonly fullSizePing: Record<Family, number>;
  /** VXLAN only: the encapsulated full-size pings seen on n1's underlay (IPv4 outer for both families). */
  readonly encapsulated?: readonly Encapsulated[];
}

export interface Ipv6DatapathResult extends V6Summary {
  readonly benchmark: 'datapathIpv6';
  readonly settings: Ipv6Options;
  readonly samples: V6Samples;
  readonly mtu: Record<
    V6Backend,
    { readonly underlay: number; readonly pod: number; readonly vxlanDevice?: number }
  >;
  /** TCP MSS per backend and family, from iperf3. */
  readonly mss: Record<V6Backend, Record<Family, number | undefined>>;
  readonly pathChecks: Record<V6Backend, PathCheck>;
  /** Bytes weft.vxlan on n1 sent during the IPv6 runs (they went through the tunnel). */
  readonly vxlanTxBytesDuringIpv6: number;
  /** Load average (1 min) when the benchmark started (absent in results written before it was recorded). */
  readonly loadAvg1mStart?: number;
  readonly loadAvg1m: number;
  readonly durationS: number;
}
