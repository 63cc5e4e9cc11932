/**
 * Datapath benchmark (not a test): throughput (iperf3 TCP 1 and 4 streams, UDP
 * packet rate at 1400 bytes) and TCP request/response round trips (sockperf
 * ping-pong) for node→node over the underlay (baseline), pod→pod on one node,
 * and pod→pod across nodes with Weft host-gw, Weft VXLAN and the same two built
 * by hand the Flannel way. Repetitions are interleaved (every path once per
 * metric per repetition) so each ratio compares figures taken close together.
 * Prints one JSON object on stdout; progress on stderr.
 *
 * Round trips run with client and server pinned to one CPU (`--rtt-cpu`,
 * default the last one; `--rtt-cpu none` to let them float): on a VM a wake-up
 * on another CPU costs ~100 µs and would drown the path's own cost.
 *
 *   node dist/bench/datapath-net.js [--quick] [--reps 3] [--seconds 5] [--rtt-seconds 1] [--rtt-rounds 6] [--rtt-cpu N|none]
 */
import { loadavg } from 'node:os';
import { requireHostTools } from '../scripts/host-tools.js';
import {
  buildVariant,
  cleanupAllVariants,
  describeVariant,
  type Endpoint,
  VARIANTS,
  type Variant,
  type VariantName,
} from './datapath-paths.js';
import { trafficFlags } from './lib/bench-args.js';
import { median, pairedRatios, round, roundSummary, summarize } from './lib/stats.js';
import { NsServer, pinTo, retryOnce, runIperf, runSockperf } from './lib/traffic.js';

/** The baseline, pod→pod on one node, then every variant's pod→pod across nodes. */
export const PATHS = ['node-node', 'pod-pod-same-node', ...VARIANTS] as const;
export type PathName = (typeof PATHS)[number];
export const METRICS = ['tcp1Gbps', 'tcp4Gbps', 'udpPps', 'rttP50Us', 'rttP99Us'] as const;
export type MetricName = (typeof METRICS)[number];

interface PathEnds {
  readonly client: Endpoint;
  readonly server: Endpoint;
}

const IPERF_PORT = 5201;
const SOCKPERF_PORT = 11111;

const parseArgs = (argv: readonly string[]) => trafficFlags(argv, { reps: 3, seconds: 5, rttRounds: 6 });

function pathEnds(v: Record<VariantName, Variant>): Record<PathName, PathEnds> {
  const wg = v['weft-hostgw'];
  return {
    'node-node': { client: wg.node1, server: wg.node2 },
    'pod-pod-same-node': { client: wg.podA, server: wg.podB },
    'weft-hostgw': { client: wg.podA, server: wg.podC },
    'weft-vxlan': { client: v['weft-vxlan'].podA, server: v['weft-vxlan'].podC },
    'hand-hostgw': { client: v['hand-hostgw'].podA, server: v['hand-hostgw'].podC },
    'hand-vxlan': { client: v['hand-vxlan'].podA, server: v['hand-vxlan'].podC },
    'weft-hostgw-nomasq': { client: v['weft-hostgw-nomasq'].podA, server: v['weft-hostgw-nomasq'].podC },
    'weft-vxlan-nomasq': { client: v['weft-vxlan-nomasq'].podA, server: v['weft-vxlan-nomasq'].podC },
  };
}

type SampleKey = MetricName | 'addedP50Us' | 'addedP99Us';
type Samples = Record<PathName, Record<SampleKey, number[]>>;

const progress = (msg: string) => process.stderr.write(`[datapath] ${msg}\n`);

/**
 * Round trips of one repetition: `rttRounds` short sockperf runs per path,
 * every round visiting all paths, so node→node is measured next to each path.
 * Per repetition: the median over rounds of p50/p99; added latency is the
 * median over rounds of (path − node→node of the same round), so a burst of
 * load from other tenants in one round moves one difference, not the figure.
 */
async function measureRtt(
  ends: Record<PathName, PathEnds>,
  order: readonly PathName[],
  rep: number,
  o: ReturnType<typeof parseArgs>,
  samples: Samples,
): Promise<void> {
  const rounds = Object.fromEntries(
    PATHS.map((p) => [p, { p50: [] as number[], p99: [] as number[] }]),
  ) as Record<PathName, { p50: number[]; p99: number[] }>;
  for (let round = 0; round < o.rttRounds; round++) {
    for (const p of order) {
      const { client, server } = ends[p];
      const r = await retryOnce(`rep ${rep + 1} rtt ${p}`, progress, () =>
        runSockperf(client.ns, server.ip, SOCKPERF_PORT, o.rttSeconds, o.rttCpu),
      );
      rounds[p].p50.push(r.p50Us);
      rounds[p].p99.push(r.p99Us);
    }
  }
  const base = rounds['node-node'];
  for (const p of PATHS) {
    samples[p].rttP50Us.push(median(rounds[p].p50));
    samples[p].rttP99Us.push(median(rounds[p].p99));
    const added = (k: 'p50' | 'p99') => median(rounds[p][k].map((v, i) => v - (base[k][i] as number)));
    samples[p].addedP50Us.push(added('p50'));
    samples[p].addedP99Us.push(added('p99'));
    progress(
      `rep ${rep + 1} rtt ${p}: p50 ${round(median(rounds[p].p50), 1)} µs, added ${round(samples[p].addedP50Us.at(-1) as number, 1)} µs (${o.rttRounds} rounds)`,
    );
  }
}

async function measure(ends: Record<PathName, PathEnds>, o: ReturnType<typeof parseArgs>): Promise<Samples> {
  const samples = Object.fromEntries(
    PATHS.map((p) => [
      p,
      Object.fromEntries([...METRICS, 'addedP50Us', 'addedP99Us'].map((m) => [m, [] as number[]])),
    ]),
  ) as Samples;
  for (let rep = 0; rep < o.reps; rep++) {
    // Rotate the path order per repetition so slow drifts in machine load spread over all paths.
    const order = PATHS.map((_, i) => PATHS[(i + rep) % PATHS.length] as PathName);
    await measureRtt(ends, order, rep, o, samples);
    for (const kind of ['tcp1', 'tcp4', 'udp'] as const) {
      for (const p of order) {
        const { client, server } = ends[p];
        const what = `rep ${rep + 1} ${kind} ${p}`;
        const r = await retryOnce(what, progress, () =>
          runIperf(client.ns, server.ip, {
            seconds: o.seconds,
            port: IPERF_PORT,
            streams: kind === 'tcp4' ? 4 : 1,
            udp: kind === 'udp',
          }),
        );
        if (kind === 'udp') samples[p].udpPps.push(r.pps as number);
        else samples[p][kind === 'tcp1' ? 'tcp1Gbps' : 'tcp4Gbps'].push(r.gbps);
        progress(
          `${what}: ${kind === 'udp' ? `${Math.round(r.pps as number)} pps` : `${r.gbps.toFixed(2)} Gbit/s`}`,
        );
      }
    }
  }
  return samples;
}

/** Absolute figures, ratios to node→node, added latency and Weft-vs-hand ratios, all per repetition first. */
export function summarizeSamples(samples: Samples) {
  const base = samples['node-node'];
  const paths = Object.fromEntries(
    PATHS.map((p) => {
      const s = samples[p];
      const abs = Object.fromEntries(
        METRICS.map((m) => [m, roundSummary(summarize(s[m]), m === 'udpPps' ? 0 : 3)]),
      );
      const ratio = Object.fromEntries(
        (['tcp1Gbps', 'tcp4Gbps', 'udpPps'] as const).map((m) => [
          m,
          roundSummary(summarize(pairedRatios(s[m], base[m])), 3),
        ]),
      );
      const addedLatencyUs = {
        p50: roundSummary(summarize(s.addedP50Us), 2),
        p99: roundSummary(summarize(s.addedP99Us), 2),
      };
      return [p, { ...abs, ratioToNodeNode: ratio, addedLatencyUs }];
    }),
  );
  const pathRatio = (weft: PathName, base: PathName) =>
    Object.fromEntries(
      (['tcp1Gbps', 'tcp4Gbps', 'udpPps'] as const).map((m) => [
        m,
        roundSummary(summarize(pairedRatios(samples[weft][m], samples[base][m])), 3),
      ]),
    );
  return {
    paths,
    weftVsHand: {
      hostgw: pathRatio('weft-hostgw', 'hand-hostgw'),
      vxlan: pathRatio('weft-vxlan', 'hand-vxlan'),
    },
    /** Diagnostic: Weft with masquerade off (no NAT hook, no conntrack) against Weft as shipped. */
    masqueradeOffVsOn: {
      hostgw: pathRatio('weft-hostgw-nomasq', 'weft-hostgw'),
      vxlan: pathRatio('weft-vxlan-nomasq', 'weft-vxlan'),
    },
  };
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const servers: NsServer[] = [];
  const started = Date.now();
  requireHostTools(['ip', 'nft', 'iperf3', 'sockperf', 'taskset', 'ethtool', 'sysctl']);
  await cleanupAllVariants();
  try {
    const variants = {} as Record<VariantName, Variant>;
    for (const name of VARIANTS) {
      variants[name] = await buildVariant(name);
      progress(`built ${name} (pod MTU ${variants[name].podMtu})`);
    }
    const ends = pathEnds(variants);
    const serverNs = [...new Set(Object.values(ends).map((e) => e.server.ns))];
    for (const ns of serverNs) {
      servers.push(await NsServer.start(ns, ['iperf3', '-s', '-p', String(IPERF_PORT)]));
      servers.push(
        await NsServer.start(ns, [
          ...pinTo(o.rttCpu),
          'sockperf',
          'server',
          '--tcp',
          '-i',
          '0.0.0.0',
          '-p',
          String(SOCKPERF_PORT),
        ]),
      );
    }
    const samples = await measure(ends, o);
    const facts = Object.fromEntries(
      await Promise.all(
        Object.values(variants).map(async (v) => [v.name, await describeVariant(v)] as const),
      ),
    );
    const out = {
      benchmark: 'datapath',
      settings: {
        ...o,
        iperfUdpPayload: 1400,
        sockperfMessage: 64,
        podPlumbing: 'same veth plumbing for all variants',
      },
      ...summarizeSamples(samples),
      samples,
      variantFacts: facts,
      loadAvg1m: round(loadavg()[0] ?? 0, 2),
      durationS: Math.round((Date.now() - started) / 1000),
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    for (const s of servers) await s.stop();
    await cleanupAllVariants();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
