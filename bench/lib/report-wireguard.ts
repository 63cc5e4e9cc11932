/** The WireGuard section of docs/benchmarks.md (pure). */
import type { TargetCheck } from './report.js';
import { cell, num, spread, table } from './report-format.js';
import { WG_LATENCIES, WG_PORT, type WgMetric, type WireguardDatapathResult } from './wireguard-results.js';

const ROWS: readonly (readonly [WgMetric, string])[] = [
  ['tcp1Gbps', 'TCP ×1 Gbit/s'],
  ['tcp4Gbps', 'TCP ×4 Gbit/s'],
  ['rttP50Us', 'round trip p50 µs (established)'],
  ['rttP99Us', 'round trip p99 µs (established)'],
  ['connectP50Us', 'new connection p50 µs'],
  ['connectP99Us', 'new connection p99 µs'],
];

const MB = 1e6;

/** "userspace (wireguard-go v…)" or "kernel (kernel module)". */
export const implementationText = (r: WireguardDatapathResult) =>
  `${r.implementation.kind} (${r.implementation.detail})`;

export function wireguardTargets(r: WireguardDatapathResult): TargetCheck[] {
  const wg = r.encryption.wireguard;
  return [
    {
      target: `WireGuard pod→pod: the underlay carries only UDP ${WG_PORT} (and gossip) between the nodes, no pod address in clear`,
      value: `${cell(wg.classes)}; ${wg.podInClear} packets with a pod address`,
      met:
        wg.podInClear === 0 &&
        Object.keys(wg.classes).every((k) => k === `udp ${WG_PORT}` || k === 'tcp 9743'),
    },
  ];
}

export function wireguardSection(r: WireguardDatapathResult): string {
  const { settings: s, backends: b, mtu, encryption: e, tunnelBytes: t } = r;
  const latency = new Set<WgMetric>(WG_LATENCIES);
  const rows = ROWS.map(([m, label]) => [
    label,
    spread(b.vxlan[m]),
    spread(b.wireguard[m]),
    spread(r.wireguardOverVxlan[m]),
    latency.has(m) ? spread(r.addedUs[m as keyof typeof r.addedUs]) : '',
  ]);
  const mtuRows = (['vxlan', 'wireguard'] as const).map((k) => [
    k === 'vxlan' ? 'VXLAN' : 'WireGuard',
    String(mtu[k].underlay),
    `${mtu[k].device} ${mtu[k].deviceMtu}`,
    String(mtu[k].pod),
  ]);
  return [
    '## WireGuard on the datapath',
    '',
    `Pod→pod across two nodes with \`backend: wireguard\` against \`backend: vxlan\`, in one local cluster with real agents, both pairs the same shape (two nodes on one L2 segment), measured in the same run, alternately (bench/wireguard-datapath.ts, ${cell(s.reps)} repetitions; method: [benchmarks-wireguard.md](benchmarks-wireguard.md)). WireGuard implementation: **${implementationText(r)}** (\`weft status\`, \`${r.implementation.metric}\`). Median [min–max] over repetitions; ratio and added µs paired per repetition.`,
    '',
    table(['figure', 'VXLAN', 'WireGuard', 'WireGuard ÷ VXLAN', 'added µs'], rows),
    '',
    table(['backend', 'underlay MTU', 'device MTU', 'pod MTU'], mtuRows),
    '',
    `Before measuring, a capture on the client node's underlay while ${cell(s.connections)} connections and a ping crossed: WireGuard — between the nodes ${cell(e.wireguard.classes)}, ${e.wireguard.podInClear} packets showing a pod address; VXLAN (the check's control) — ${cell(e.vxlan.classes)}, ${e.vxlan.podInClear} showing one. Over the measurement weft.wg on the client node sent ${num(t.deviceTx / MB)} MB, its underlay ${num(t.underlayTx / MB)} MB. wireguard-go during TCP ×1: ${spread(r.wireguardGoCpuPercent.client)} % of one core on the client node, ${spread(r.wireguardGoCpuPercent.server)} % on the server node. Load average (1 min) at the end: ${num(r.loadAvg1m)}.`,
  ].join('\n');
}
