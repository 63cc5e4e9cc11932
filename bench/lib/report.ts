import type { BarChart, BarDatum } from './charts.js';
import type { ChildResult } from './child.js';
import type { Ipv6DatapathResult } from './ipv6-results.js';
import type { LatencySummary } from './latency.js';
import type { MachineFacts } from './machine.js';
import { LEVELS, POLICY_BACKENDS, type PolicyDatapathResult, TARGET } from './policy-results.js';
import { cell, isSpread, num, objectsTable, type Spread, spread, table } from './report-format.js';
import { ipv6Section } from './report-ipv6.js';
import { wireguardSection, wireguardTargets } from './report-wireguard.js';
import type { WireguardDatapathResult } from './wireguard-results.js';

/** Everything one `bench/run` writes to bench/results/<date>.json. */
export interface BenchResults {
  readonly date: string;
  readonly command: string;
  readonly quick: boolean;
  readonly machine: MachineFacts;
  readonly loadAvgAfter: readonly number[];
  readonly durationS: number;
  /** Where the raw results were written, relative to the repository. */
  readonly resultsFile: string;
  /** Benchmark namespaces still present after the run (should be empty). */
  readonly leftoverNamespaces: readonly string[];
  /** The arguments each section's program ran with. */
  readonly sectionArgs?: Partial<Record<SectionName, string[]>>;
  readonly sections: Record<SectionName, ChildResult>;
  /** Merged results (`--from`): each run's command and date, in order. */
  readonly runs?: readonly { readonly command: string; readonly date: string }[];
}

export const SECTIONS = [
  'datapath',
  'cniLatency',
  'agentScale',
  'gossip',
  'agentFootprint',
  'policyDatapath',
  'policyScale',
  'wireguardDatapath',
  'datapathIpv6',
] as const;
export type SectionName = (typeof SECTIONS)[number];

/** A target checked against the run's figures. */
export interface TargetCheck {
  readonly target: string;
  readonly value: string;
  readonly met: boolean | undefined;
}

type PathFigures = Record<string, Spread> & {
  ratioToNodeNode: Record<string, Spread>;
  addedLatencyUs: { p50: Spread; p99: Spread };
};
interface DatapathResult {
  paths: Record<string, PathFigures>;
  weftVsHand: Record<'hostgw' | 'vxlan', Record<string, Spread>>;
  /** Weft masquerade off ÷ on (older results: weftNoMasqueradeVsHand, rule-free hand paths). */
  masqueradeOffVsOn?: Record<'hostgw' | 'vxlan', Record<string, Spread>>;
  weftNoMasqueradeVsHand?: Record<'hostgw' | 'vxlan', Record<string, Spread>>;
  variantFacts: Record<string, { podMtu: number; nftRules: number; rpFilter: Record<string, string> }>;
  settings: { reps: number; seconds: number; rttSeconds: number; rttRounds: number; rttCpu?: number };
}

const THROUGHPUT = [
  ['tcp1Gbps', 'TCP ×1'],
  ['tcp4Gbps', 'TCP ×4'],
  ['udpPps', 'UDP pps'],
] as const;

/** Noise allowance for "≥ 1.0× hand-built": the repetitions' spread must reach 1.0. */
const met = (s: Spread | undefined, min: number, withinNoise = false) =>
  s ? (withinNoise ? s.max >= min : s.median >= min) : undefined;

export function checkTargets(d: DatapathResult): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const [m, label] of THROUGHPUT) {
    const hg = d.paths['weft-hostgw']?.ratioToNodeNode[m];
    const vx = d.paths['weft-vxlan']?.ratioToNodeNode[m];
    checks.push({ target: `host-gw ${label} ≥ 0.90× node→node`, value: spread(hg), met: met(hg, 0.9) });
    checks.push({ target: `VXLAN ${label} ≥ 0.80× node→node`, value: spread(vx), met: met(vx, 0.8) });
  }
  for (const backend of ['hostgw', 'vxlan'] as const) {
    for (const [m, label] of THROUGHPUT) {
      const r = d.weftVsHand[backend][m];
      checks.push({
        target: `Weft ${backend} ${label} ≥ 1.0× hand-built (within noise)`,
        value: spread(r),
        met: met(r, 1.0, true),
      });
    }
  }
  const hgLat = d.paths['weft-hostgw']?.addedLatencyUs.p50;
  const vxLat = d.paths['weft-vxlan']?.addedLatencyUs.p50;
  checks.push({
    target: 'host-gw added p50 latency ≤ 8 µs',
    value: `${spread(hgLat)} µs`,
    met: hgLat && hgLat.median <= 8,
  });
  checks.push({
    target: 'VXLAN added p50 latency ≤ 12 µs',
    value: `${spread(vxLat)} µs`,
    met: vxLat && vxLat.median <= 12,
  });
  return checks;
}

/** Weft÷hand ratio rows, then the masquerade diagnostics when measured. */
function handRows(d: DatapathResult): [string, Record<string, Spread>][] {
  const rows: [string, Record<string, Spread>][] = [
    ['host-gw: Weft / hand', d.weftVsHand.hostgw],
    ['VXLAN: Weft / hand', d.weftVsHand.vxlan],
  ];
  if (d.masqueradeOffVsOn) {
    rows.push(
      ['host-gw: Weft masquerade off / on', d.masqueradeOffVsOn.hostgw],
      ['VXLAN: Weft masquerade off / on', d.masqueradeOffVsOn.vxlan],
    );
  } else if (d.weftNoMasqueradeVsHand) {
    rows.push(
      ['host-gw: Weft, masquerade off / hand', d.weftNoMasqueradeVsHand.hostgw],
      ['VXLAN: Weft, masquerade off / hand', d.weftNoMasqueradeVsHand.vxlan],
    );
  }
  return rows;
}

/** The datapath charts (throughput ratios, added latency, Weft vs hand-built). */
export function datapathCharts(d: DatapathResult): Record<string, BarChart> {
  const paths = Object.keys(d.paths).filter((p) => p !== 'node-node');
  const ratioData: BarDatum[] = paths.flatMap((p) =>
    THROUGHPUT.map(([m, label]) => ({
      group: p,
      series: label,
      ...(d.paths[p]?.ratioToNodeNode[m] as Spread),
    })),
  );
  const latencyData: BarDatum[] = paths.flatMap((p) =>
    (['p50', 'p99'] as const).map((q) => ({
      group: p,
      series: `RTT ${q}`,
      ...(d.paths[p]?.addedLatencyUs[q] as Spread),
    })),
  );
  const handData: BarDatum[] = handRows(d).flatMap(([label, r]) =>
    THROUGHPUT.map(([m, series]) => ({ group: label, series, ...(r[m] as Spread) })),
  );
  return {
    'datapath-throughput': {
      title: 'Throughput relative to node→node (median, min–max whiskers)',
      axisTitle: '× node→node',
      data: ratioData,
      rules: [
        { value: 0.8, label: 'VXLAN target' },
        { value: 0.9, label: 'host-gw target' },
      ],
    },
    'datapath-latency': {
      title: 'Added TCP round-trip latency over node→node',
      axisTitle: 'µs',
      data: latencyData,
    },
    'weft-vs-hand': {
      title: 'Weft relative to the hand-built (Flannel-style) path',
      axisTitle: '× hand-built',
      data: handData,
      rules: [{ value: 1, label: 'parity' }],
    },
  };
}

function datapathSection(d: DatapathResult, chartDir: string): string {
  const rows = Object.entries(d.paths).map(([p, f]) => [
    p,
    spread(f.tcp1Gbps),
    spread(f.ratioToNodeNode.tcp1Gbps),
    spread(f.tcp4Gbps),
    spread(f.ratioToNodeNode.tcp4Gbps),
    spread(f.udpPps, 1 / 1000),
    spread(f.ratioToNodeNode.udpPps),
  ]);
  const lat = Object.entries(d.paths).map(([p, f]) => [
    p,
    spread(f.rttP50Us),
    spread(f.rttP99Us),
    spread(f.addedLatencyUs.p50),
    spread(f.addedLatencyUs.p99),
  ]);
  const hand = handRows(d).map(([label, r]) => [label, ...THROUGHPUT.map(([m]) => spread(r[m]))]);
  const facts = Object.entries(d.variantFacts).map(([v, f]) => [
    v,
    String(f.podMtu),
    String(f.nftRules),
    `all=${f.rpFilter.all} eth0=${f.rpFilter.eth0}`,
  ]);
  const s = d.settings;
  return [
    '## Datapath',
    '',
    `Network namespaces on this machine: two nodes on one L2 underlay (veth ↔ switch bridge), pods as netns with a veth on the node bridge, plumbed identically for every variant. Weft variants are programmed by the agent's own \`Datapath.sync()\`; the hand-built variants are the Flannel layout (bridge cni0 + static routes; flannel.1 VXLAN, nolearning, MTU 1450, permanent neighbour + FDB entry) with the rules flanneld installs under \`--ip-masq\` (the default in its manifest): a postrouting chain of four rules (pod↔pod return, pod→outside masquerade) and two forward accepts, as nftables rules. ${s.reps} repetition(s), interleaved: iperf3 ${s.seconds} s per run (TCP 1 and 4 streams, UDP at 1400-byte payload, unlimited rate, packets received per second), sockperf TCP ping-pong for latency (64-byte messages, ${s.rttCpu === undefined ? 'client and server not pinned' : `client and server pinned to CPU ${s.rttCpu} — on this VM a wake-up on the other CPU costs ~100 µs and would drown the path's own cost`}; per repetition ${s.rttRounds} round(s) of ${s.rttSeconds} s runs visiting every path, thousands of round trips each; a repetition's p50/p99 is the median over its rounds; added latency is the median over rounds of the path's figure minus node→node's in the same round). Every ratio is taken per repetition against the figure measured in the same repetition, then the median [min–max] over repetitions is shown.`,
    '',
    `![throughput](${chartDir}/datapath-throughput.svg)`,
    '',
    table(['path', 'TCP ×1 Gbit/s', '× node', 'TCP ×4 Gbit/s', '× node', 'UDP kpps', '× node'], rows),
    '',
    `![latency](${chartDir}/datapath-latency.svg)`,
    '',
    table(['path', 'RTT p50 µs', 'RTT p99 µs', 'added p50 µs', 'added p99 µs'], lat),
    '',
    '### Weft against the hand-built path',
    '',
    `![weft vs hand](${chartDir}/weft-vs-hand.svg)`,
    '',
    table(['ratio', ...THROUGHPUT.map(([, l]) => `${l} × hand`)], hand),
    '',
    'What differs between the variants on node n1 (pod MTU, nftables rules, rp_filter):',
    '',
    table(['variant', 'pod MTU', 'nft rules', 'rp_filter'], facts),
    '',
    "Weft's table `inet weft` has a forward filter chain and a postrouting NAT chain (masquerade for traffic leaving the cluster CIDR); Flannel's rules have the same two hooks. A NAT hook makes the kernel track connections, so every pod packet a node forwards — and, with VXLAN, every encapsulated packet it sends or receives — goes through conntrack (on a real node kube-proxy's rules need conntrack anyway). The diagnostic paths `weft-*-nomasq` run the same Weft datapath with `masquerade: false` (no masquerade chain; in hostgw mode no NAT chain and no conntrack at all, while with a VXLAN device the table keeps its node-IP SNAT chain of ADR 14, so conntrack stays on there): their ratio to Weft as shipped is the price of masquerading, and their ratio to node→node shows what the bare kernel path (veth + bridge + routing) costs on this machine.",
  ].join('\n');
}

type BurstFigures = { addWallMs: number; add: { p50: number; p99: number }; delWallMs: number };

/** The parallel-ADD burst table (absent from results made before it existed). */
function parallelRows(p: unknown): string[] {
  const b = p as { pods: number; weft: BurstFigures; reference: BurstFigures } | undefined;
  if (!b?.weft || !b.reference) return [];
  const row = (label: string, f: BurstFigures) => [
    label,
    num(f.addWallMs),
    num(f.add.p50),
    num(f.add.p99),
    num(f.delWallMs),
  ];
  return [
    '',
    `${b.pods} pods ADDed at once on one node (all started together; wall time until the last answer), then DELed at once. Milliseconds.`,
    '',
    table(
      ['plugin', 'ADD wall', 'ADD p50', 'ADD p99', 'DEL wall'],
      [row('Weft', b.weft), row('reference', b.reference)],
    ),
  ];
}

function cniSection(r: Record<string, unknown>): string {
  const w = r.weft as Record<string, Record<string, number>>;
  const ref = r.reference as Record<string, Record<string, number>>;
  const rows = (['add', 'del'] as const).map((op) => [
    op.toUpperCase(),
    num(w?.[op]?.p50),
    num(w?.[op]?.p99),
    num(ref?.[op]?.p50),
    num(ref?.[op]?.p99),
  ]);
  return [
    '## CNI ADD/DEL latency',
    '',
    `Weft (shim → agent) against the reference bridge + host-local plugins, ${cell(r.pods)} pods each, interleaved (bench/cni-latency.ts). Milliseconds.`,
    '',
    table(['op', 'Weft p50', 'Weft p99', 'reference p50', 'reference p99'], rows),
    '',
    `Ratios: ${cell(r.ratios)}. Start-up: ${cell(r.startup)}.`,
    ...parallelRows(r.parallel),
  ].join('\n');
}

const summaries = (x: unknown): Record<string, unknown>[] => {
  if (Array.isArray(x))
    return x.filter((o) => o && typeof o === 'object' && 'summary' in o) as Record<string, unknown>[];
  const s = (x as { summary?: unknown })?.summary;
  return Array.isArray(s) ? (s as Record<string, unknown>[]) : [];
};

function failed(title: string, r: ChildResult): string {
  return `## ${title}\n\n**Did not complete** (${r.durationS} s): ${(r.error ?? 'unknown error').split('\n')[0]}`;
}

const BACKEND_LABEL = { hostgw: 'host-gw', vxlan: 'VXLAN' } as const;

const LEVEL_ROWS = [
  ['tcp1Gbps', 'TCP ×1 Gbit/s'],
  ['rttP50Us', 'round trip p50 µs (established)'],
  ['rttP99Us', 'round trip p99 µs (established)'],
  ['connectP50Us', 'new connection p50 µs'],
  ['connectP99Us', 'new connection p99 µs'],
] as const;

export function policyDatapathTargets(r: PolicyDatapathResult): TargetCheck[] {
  return POLICY_BACKENDS.map((b) => {
    const ratio = r.backends[b][`${TARGET.level}`]?.ratioToNoPolicy.tcp1Gbps;
    return {
      target: `${BACKEND_LABEL[b]} pod→pod TCP ×1 with ${TARGET.level} policies ≥ ${TARGET.minTcp1Ratio}× no policy`,
      value: spread(ratio),
      met: ratio ? ratio.median >= TARGET.minTcp1Ratio : undefined,
    };
  });
}

function policyDatapathSection(r: PolicyDatapathResult): string {
  const parts = [
    '## NetworkPolicy on the datapath',
    '',
    `Pod→pod across two nodes with ${LEVELS.join(', ')} NetworkPolicies on the nodes, both measured pods isolated both ways by the union of many policies, the allow for the measured traffic last in their chains (bench/policy-datapath.ts, ${cell(r.settings.reps)} repetitions, levels interleaved). Median [min–max] over repetitions; ratio and added µs paired with 0 policies of the same repetition.`,
    '',
  ];
  for (const b of POLICY_BACKENDS) {
    const levels = r.backends[b];
    parts.push(
      `### ${BACKEND_LABEL[b]}`,
      '',
      table(
        ['figure', ...LEVELS.map((l) => `${l} policies`), ...LEVELS.slice(1).map((l) => `${l} ÷ 0`)],
        LEVEL_ROWS.map(([m, label]) => [
          label,
          ...LEVELS.map((l) => spread(levels[`${l}`]?.[m])),
          ...LEVELS.slice(1).map((l) => spread(levels[`${l}`]?.ratioToNoPolicy[m])),
        ]),
      ),
      '',
      `In the kernel (node n2, first application): ${LEVELS.map((l) => {
        const k = r.kernel[b][`${l}`]?.n2;
        return `${l} policies → ${cell(k?.chains)} chains, ${cell(k?.rules)} rules, ${cell(k?.sets)} sets with ${cell(k?.setElements)} elements, the server's chain ${cell(k?.measuredChainRules)} rules`;
      }).join('; ')}.`,
      '',
    );
  }
  return parts.join('\n');
}

type PolicyScaleResult = {
  sizes: Record<string, number>;
  agents: (Record<string, unknown> & { node: string })[];
  changes: Record<string, LatencySummary | number | null> & { all: LatencySummary };
  rssAfterChanges?: { node: string; rssMiB: number }[];
};

export function policyScaleTargets(r: PolicyScaleResult): TargetCheck[] {
  const all = r.changes.all;
  return [
    {
      target: 'policy or pod-label change → enforced on every node, p99 ≤ 200 ms',
      value: `p50 ${num(all.p50Ms ?? undefined)} ms, p99 ${num(all.p99Ms ?? undefined)} ms (${all.samples} node × change samples, ${all.timeouts} timeouts)`,
      met: all.p99Ms === null ? undefined : all.p99Ms <= 200 && all.timeouts === 0,
    },
  ];
}

function policyScaleSection(r: PolicyScaleResult): string {
  const z = r.sizes;
  const kinds = [
    ['labelAdd', 'a pod elsewhere gains the allowed label (its address enters a set)'],
    ['labelRemove', 'it loses the label (its address leaves the set)'],
    ['policyAdd', 'a policy selecting a pod on every node is created (new verdict chain)'],
    ['policyDelete', 'that policy is deleted'],
    ['all', 'all of them'],
  ] as const;
  return [
    '## NetworkPolicy at scale',
    '',
    `${cell(z.pods)} pods (${cell(z.podsPerNode)} per node, on ${cell(z.nodes)} nodes of which ${cell(z.realNodes)} run a real agent), ${cell(z.namespaces)} namespaces, ${cell(z.policies)} NetworkPolicies in the real API server (bench/policy-scale.ts, workload bench/lib/policy-workload.ts). Changes are made one at a time; each is timed from the API call until the kernel of every node has committed it (\`nft monitor\`, confirmed by reading the set or map).`,
    '',
    table(
      ['change', 'samples', 'p50 ms', 'p99 ms', 'max ms', 'timeouts'],
      kinds.map(([k, label]) => {
        const c = r.changes[k] as LatencySummary | undefined;
        return [label, cell(c?.samples), cell(c?.p50Ms), cell(c?.p99Ms), cell(c?.maxMs), cell(c?.timeouts)];
      }),
    ),
    '',
    'Per agent, once its first compiled policy is applied: start → applied, list complete → applied, the first compilation and application (`weft_networkpolicy_compile_duration_seconds`, `weft_networkpolicy_apply_duration_seconds`), RSS, the policies it enforces, what `table inet weft` holds.',
    '',
    objectsTable(r.agents),
    '',
    `RSS after the changes: ${(r.rssAfterChanges ?? []).map((a) => `${num(a.rssMiB)} MiB`).join(', ') || '–'}.`,
  ].join('\n');
}

/** Which commands made the results, each with its date. */
function generatedBy(res: BenchResults): string {
  const runs = res.runs ?? [{ command: res.command, date: res.date }];
  return runs
    .map(
      (r) =>
        `${r.command
          .split(', then ')
          .map((c) => `\`${c}\``)
          .join(', then ')} on ${r.date}`,
    )
    .join(', then ');
}

/** The whole docs/benchmarks.md for one run. */
export function renderReport(res: BenchResults, chartDir: string): string {
  const m = res.machine;
  const s = res.sections;
  const parts = [
    '# Benchmarks',
    '',
    `Generated by ${generatedBy(res)} (${res.durationS} s${res.quick ? ', quick mode: figures not meaningful' : ''}). Raw results: \`${res.resultsFile}\`. The machine is shared; read the ratios, not the absolute figures.`,
    '',
    `Method and findings: [datapath](benchmarks-datapath.md), [control-plane scale](benchmarks-agent-scale.md), [gossip](benchmarks-gossip.md), [NetworkPolicy](benchmarks-policy.md), [WireGuard](benchmarks-wireguard.md). Re-run one section with \`npm run bench -- --only datapath\` (sections: ${SECTIONS.join(', ')}); \`--from a.json,b.json --out c.json\` merges results into this page; \`WEFT_BENCH_ARGS_<SECTION>\` replaces a section's arguments.`,
    '',
    table(
      [
        'cores',
        'CPU',
        'memory',
        'kernel',
        'Node',
        'Kubernetes',
        'iperf3',
        'sockperf',
        'load before',
        'load after',
      ],
      [
        [
          String(m.cores),
          m.cpuModel,
          `${m.memoryGiB} GiB`,
          m.kernel,
          m.node,
          m.kubernetes,
          m.iperf3,
          m.sockperf,
          m.loadAvg.join(' '),
          res.loadAvgAfter.join(' '),
        ],
      ],
    ),
    '',
  ];
  const checks = [
    ...(s.datapath.ok ? checkTargets(s.datapath.result as DatapathResult) : []),
    ...(s.policyDatapath?.ok ? policyDatapathTargets(s.policyDatapath.result as PolicyDatapathResult) : []),
    ...(s.policyScale?.ok ? policyScaleTargets(s.policyScale.result as PolicyScaleResult) : []),
    ...(s.wireguardDatapath?.ok
      ? wireguardTargets(s.wireguardDatapath.result as WireguardDatapathResult)
      : []),
  ];
  if (checks.length > 0) {
    parts.push(
      '## Targets',
      '',
      table(
        ['target', 'measured', 'met'],
        checks.map((c) => [c.target, c.value, c.met === undefined ? '–' : c.met ? 'yes' : '**no**']),
      ),
      '',
    );
  }
  if (s.datapath.ok) parts.push(datapathSection(s.datapath.result as DatapathResult, chartDir));
  else parts.push(failed('Datapath', s.datapath));
  parts.push('');
  parts.push(
    s.cniLatency.ok
      ? cniSection(s.cniLatency.result as Record<string, unknown>)
      : failed('CNI', s.cniLatency),
  );
  parts.push('');
  if (s.agentScale.ok) {
    parts.push(
      '## Control-plane scale',
      '',
      'One real agent against N fake Nodes in the real API server (bench/agent-scale.ts): start → all peers programmed, list → programmed, RSS, one added Node → programmed. Milliseconds and MiB, median [min–max].',
      '',
      objectsTable(summaries(s.agentScale.result), ['oneAddedNodePhasesMs']),
    );
  } else parts.push(failed('Control-plane scale', s.agentScale));
  parts.push('');
  if (s.gossip.ok) {
    parts.push(
      '## Gossip',
      '',
      'Convergence and steady-state bandwidth per mesh size (bench/gossip.ts), median [min–max] over runs.',
      '',
      objectsTable(summaries(s.gossip.result)),
    );
  } else parts.push(failed('Gossip', s.gossip));
  parts.push('');
  if (s.agentFootprint.ok) {
    const f = s.agentFootprint.result as Record<string, unknown>;
    parts.push(
      '## Agent footprint',
      '',
      `One agent of a ${cell(f.nodes)}-node local cluster, idle, sampled over ${cell(f.windowS)} s (bench/lib/agent-footprint.ts). With 5000 peers: see the RSS column of the scale table.`,
      '',
      table(
        ['RSS median MiB', 'RSS max MiB', 'CPU % of one core', 'CPU seconds'],
        [
          [
            cell((f.rssMiB as Spread)?.median),
            cell((f.rssMiB as { max: number })?.max),
            cell(f.cpuPercentOfOneCore),
            cell(f.cpuSeconds),
          ],
        ],
      ),
    );
  } else parts.push(failed('Agent footprint', s.agentFootprint));
  parts.push('');
  // Results written before a section existed lack it entirely.
  if (s.policyDatapath?.ok)
    parts.push(policyDatapathSection(s.policyDatapath.result as PolicyDatapathResult));
  else if (s.policyDatapath) parts.push(failed('NetworkPolicy on the datapath', s.policyDatapath));
  parts.push('');
  if (s.policyScale?.ok) parts.push(policyScaleSection(s.policyScale.result as PolicyScaleResult));
  else if (s.policyScale) parts.push(failed('NetworkPolicy at scale', s.policyScale));
  parts.push('');
  if (s.wireguardDatapath?.ok)
    parts.push(wireguardSection(s.wireguardDatapath.result as WireguardDatapathResult));
  else if (s.wireguardDatapath) parts.push(failed('WireGuard on the datapath', s.wireguardDatapath));
  parts.push('');
  if (s.datapathIpv6?.ok) parts.push(ipv6Section(s.datapathIpv6.result as Ipv6DatapathResult));
  else if (s.datapathIpv6) parts.push(failed('IPv6 on the datapath (dual-stack)', s.datapathIpv6));
  parts.push('');
  return `${parts.join('\n')}\n`;
}

export { isSpread };
