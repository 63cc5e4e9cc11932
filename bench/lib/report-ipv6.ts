/** The dual-stack (IPv6 against IPv4) section of docs/benchmarks.md (pure). */
import type { Family, Ipv6DatapathResult, V6Backend } from './ipv6-results.js';
import { cell, num, spread, table } from './report-format.js';

const LABEL: Record<V6Backend, string> = { hostgw: 'host-gw', vxlan: 'VXLAN' };
const GB = 1e9;

/** "50 bytes" when every encapsulated packet of the family shows the same overhead. */
const overheads = (r: Ipv6DatapathResult, f: Family) => {
  const seen = [
    ...new Set((r.pathChecks.vxlan.encapsulated ?? []).filter((e) => e.family === f).map((e) => e.overhead)),
  ];
  return seen.length === 0 ? '–' : `${seen.join('/')} bytes`;
};

export function ipv6Section(r: Ipv6DatapathResult): string {
  const s = r.settings;
  const rows = (['hostgw', 'vxlan'] as const).map((b) => {
    const f = r.backends[b];
    return [
      LABEL[b],
      spread(f.ipv4.tcp1Gbps),
      spread(f.ipv6.tcp1Gbps),
      `**${spread(r.ipv6OverIpv4[b].tcp1Gbps)}**`,
      spread(f.ipv4.tcp4Gbps),
      spread(f.ipv6.tcp4Gbps),
      `**${spread(r.ipv6OverIpv4[b].tcp4Gbps)}**`,
      `${r.mss[b].ipv4 ?? '–'} / ${r.mss[b].ipv6 ?? '–'}`,
      String(r.mtu[b].pod),
    ];
  });
  const routes = (['hostgw', 'vxlan'] as const)
    .map((b) => `${LABEL[b]} \`${r.pathChecks[b].route.ipv4}\` and \`${r.pathChecks[b].route.ipv6}\``)
    .join('; ');
  const vx = r.mtu.vxlan;
  return [
    '## IPv6 on the datapath (dual-stack)',
    '',
    `Pod↔pod across two nodes over IPv4 and over IPv6 between the same two pods (one address per family), dual-stack nodes programmed by the agent's \`Datapath.sync()\` with an IPv4 and an IPv6 cluster CIDR (ADR 18; bench/datapath-ipv6.ts, ${cell(s.reps)} repetitions, iperf3 ${cell(s.seconds)} s per run; method: [benchmarks-datapath.md](benchmarks-datapath.md#dual-stack-ipv6-against-ipv4)). Per repetition and backend, each figure runs over both families back to back, the family going first alternating; the ratio is taken within that pair. Median [min–max] over repetitions.`,
    '',
    table(
      [
        'backend',
        'TCP ×1 IPv4 Gbit/s',
        'TCP ×1 IPv6 Gbit/s',
        'TCP ×1 IPv6 ÷ IPv4',
        'TCP ×4 IPv4 Gbit/s',
        'TCP ×4 IPv6 Gbit/s',
        'TCP ×4 IPv6 ÷ IPv4',
        'TCP MSS IPv4 / IPv6',
        'pod MTU',
      ],
      rows,
    ),
    '',
    `Checked before measuring, on node n1: the route kind \`Datapath.sync()\` chose for the peer (host-gw ${cell(r.pathChecks.hostgw.routeKind)}; VXLAN ${cell(r.pathChecks.vxlan.routeKind)}) and the kernel routes to the peer's podCIDRs (${routes}); a ping of the pod MTU, not fragmented, crossed in both families on both backends; every iperf3 run connected from the client pod's address to the server pod's of the family measured. VXLAN (underlay MTU ${vx.underlay}, weft.vxlan ${vx.vxlanDevice ?? '–'}): on the underlay the full-size pings travel in outer IPv4 packets of ${Math.max(...(r.pathChecks.vxlan.encapsulated ?? []).map((e) => e.outerBytes))} bytes, tunnel overhead IPv4 ${overheads(r, 'ipv4')}, IPv6 ${overheads(r, 'ipv6')}; weft.vxlan on n1 sent ${num(r.vxlanTxBytesDuringIpv6 / GB)} GB during the IPv6 runs. Load average (1 min)${r.loadAvg1mStart === undefined ? '' : ` at the start: ${num(r.loadAvg1mStart)},`} at the end: ${num(r.loadAvg1m)}; other work on the machine moves single pairs (see the spread), read the median ratio.`,
  ].join('\n');
}
