/**
 * WireGuard datapath benchmark (not a test): pod → pod across two nodes with
 * `backend: wireguard` against `backend: vxlan`, both in one local cluster with
 * real agents (set-up: wireguard-topology.ts), measured in the same run,
 * alternately (repetition r measures VXLAN first when r is even, WireGuard
 * first when odd). Prints one JSON object (WireguardDatapathResult) on stdout;
 * progress on stderr.
 *
 * Before anything is measured, one capture per pair on the client node's
 * underlay interface (tcpdump, read by lib/underlay-capture.ts) while the client pings the
 * server pod and opens `connections` TCP connections to it: for WireGuard every
 * packet between the two nodes must be UDP 51820 (or the agents' gossip, TCP
 * 9743), at least one per connection, and no pod address may show, neither as
 * an outer address nor as an inner header; for VXLAN — the control — the pods'
 * addresses must show (else the check is blind). A failed check fails the
 * benchmark. Which implementation runs (kernel module or wireguard-go, its
 * version) comes from the agent's `weft status` and its
 * weft_wireguard_implementation metric, which must agree.
 *
 * Per repetition and backend: iperf3 TCP 1 and 4 streams, `--rtt-rounds`
 * sockperf ping-pong runs on an established connection (median of their
 * p50/p99) and `--connections` timed new connections (lib/tcp-crr.c); round
 * trip ends pinned to one CPU as in datapath-net.ts. Ratios WireGuard ÷ VXLAN
 * and added µs are paired per repetition. wireguard-go's CPU time on both nodes
 * is read from /proc around each WireGuard TCP ×1 run.
 *
 *   node dist/bench/wireguard-datapath.js [--quick] [--reps 10] [--seconds 5] [--rtt-seconds 1]
 *        [--rtt-rounds 3] [--connections 400] [--rtt-cpu N|none]
 *   env: WEFT_BENCH_KEEP_LOGS=1 keeps the cluster's logs (agents).
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { captureOn } from '../agent/test/ns/capture.js';
import type { Cluster } from '../e2e/cluster/index.js';
import { listNetnsPids } from '../e2e/cluster/netns.js';
import { podPing } from '../e2e/cluster/pods.js';
import { requireHostTools } from '../scripts/host-tools.js';
import { PORTS } from './lib/policy-levels.js';
import { measureRoundTrips } from './lib/round-trips.js';
import { round, roundSummary, summarize } from './lib/stats.js';
import { buildTcpCrr, runTcpCrr } from './lib/tcp-crr.js';
import { type NsServer, retryOnce, runIperf } from './lib/traffic.js';
import { judgeCapture, parsePcap } from './lib/underlay-capture.js';
import {
  backendOrder,
  captureProblems,
  counterDelta,
  emptyWgSamples,
  parseWireguardArgs,
  summarizeWgSamples,
  type WgBackend,
  type WgMetric,
  type WgSamples,
  type WireguardDatapathResult,
  type WireguardOptions,
} from './lib/wireguard-results.js';
import {
  mtuFacts,
  setUpWgBench,
  startWgCluster,
  startWgServers,
  tunnelCounters,
  type WgBench,
  wireguardImplementation,
} from './wireguard-topology.js';

export type { WireguardDatapathResult };

const progress = (msg: string) => process.stderr.write(`[wireguard-datapath] ${msg}\n`);
const attempt = <T>(what: string, fn: () => Promise<T>) => retryOnce(what, progress, fn);
const TICKS_PER_S = 100;

/** CPU seconds so far of the wireguard-go processes in a node namespace (utime + stime). */
async function wireguardGoCpuS(netns: string): Promise<number> {
  let ticks = 0;
  for (const pid of await listNetnsPids(netns)) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'wireguard-go') continue;
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // ended meanwhile
    }
  }
  return ticks / TICKS_PER_S;
}

/** The encryption check of one pair (see the header); throws when it does not hold. */
async function checkEncryption(b: WgBench, backend: WgBackend, crr: string, o: WireguardOptions) {
  const { client, server } = b.pairs[backend];
  const dir = join(b.cluster.runDir, 'captures');
  const { raw } = await captureOn(client.node.netns, client.node.iface, dir, async () => {
    if (!(await podPing(b.cluster, client.pod, server.pod.ip))) throw new Error(`${backend}: ping failed`);
    await runTcpCrr(crr, client.pod.netns, server.pod.ip, PORTS.echo, o.connections);
  });
  const verdict = judgeCapture(parsePcap(raw), {
    nodes: [client.node.ip, server.node.ip],
    pods: [client.pod.ip, server.pod.ip],
    podCIDRs: [...b.podCIDRs.values()].flat(),
  });
  const problems = captureProblems(verdict, backend === 'wireguard', o.connections);
  progress(`${backend} underlay capture: ${JSON.stringify(verdict)}`);
  if (problems.length > 0) throw new Error(`${backend} underlay capture: ${problems.join('; ')}`);
  return verdict;
}

/** All metrics of one backend in one repetition; for WireGuard also wireguard-go's CPU during TCP ×1. */
async function measureCell(b: WgBench, backend: WgBackend, o: WireguardOptions, crr: string, what: string) {
  const { client, server } = b.pairs[backend];
  const iperf = (streams: number) =>
    attempt(`${what} tcp${streams}`, () =>
      runIperf(client.pod.netns, server.pod.ip, { seconds: o.seconds, port: PORTS.iperf, streams }),
    );
  const cpu = () => Promise.all([client, server].map((e) => wireguardGoCpuS(e.node.netns)));
  const cpu0 = await cpu();
  const t0 = performance.now();
  const tcp1 = await iperf(1);
  const wall = (performance.now() - t0) / 1000;
  const cpuPercent = (await cpu()).map((c, i) => round((100 * (c - (cpu0[i] as number))) / wall, 1));
  const tcp4 = await iperf(4);
  const rt = await measureRoundTrips(client.pod.netns, server.pod.ip, PORTS, o, crr, what, progress);
  const cell: Record<WgMetric, number> = { tcp1Gbps: tcp1.gbps, tcp4Gbps: tcp4.gbps, ...rt };
  return { cell, cpuPercent };
}

async function measure(b: WgBench, o: WireguardOptions, crr: string) {
  const samples: WgSamples = emptyWgSamples();
  const cpu = { client: [] as number[], server: [] as number[] };
  for (let rep = 0; rep < o.reps; rep++) {
    for (const backend of backendOrder(rep)) {
      const what = `rep ${rep + 1} ${backend}`;
      const { cell, cpuPercent } = await measureCell(b, backend, o, crr, what);
      for (const [m, v] of Object.entries(cell)) samples[backend][m as WgMetric].push(v);
      if (backend === 'wireguard') {
        cpu.client.push(cpuPercent[0] as number);
        cpu.server.push(cpuPercent[1] as number);
      }
      progress(
        `${what}: ${cell.tcp1Gbps.toFixed(2)} / ×4 ${cell.tcp4Gbps.toFixed(2)} Gbit/s, rtt p50 ${round(cell.rttP50Us, 1)} µs, connect p50 ${round(cell.connectP50Us, 1)} µs${backend === 'wireguard' ? `, wireguard-go CPU ${cpuPercent.join(' / ')} %` : ''}`,
      );
    }
  }
  return { samples, cpu };
}

async function run(cluster: Cluster, o: WireguardOptions, started: number) {
  const servers: NsServer[] = [];
  const agents: WgBench['agents'] = [];
  try {
    const crr = await buildTcpCrr();
    const b = await setUpWgBench(cluster, agents);
    servers.push(...(await startWgServers(b, crr, o.rttCpu)));
    const implementation = await wireguardImplementation(b);
    const mtu = { vxlan: await mtuFacts(b, 'vxlan'), wireguard: await mtuFacts(b, 'wireguard') };
    progress(`implementation ${JSON.stringify(implementation)}, MTU ${JSON.stringify(mtu)}`);
    const encryption = {
      vxlan: await checkEncryption(b, 'vxlan', crr, o),
      wireguard: await checkEncryption(b, 'wireguard', crr, o),
    };
    const bytes0 = await tunnelCounters(b);
    const { samples, cpu } = await measure(b, o, crr);
    const bytes = counterDelta(bytes0, await tunnelCounters(b));
    progress(`bytes on the WireGuard client node: ${JSON.stringify(bytes)}`);
    // Every measured byte left through weft.wg: the wire carried at least as much.
    if (bytes.deviceTx <= 0 || bytes.underlayTx < bytes.deviceTx)
      throw new Error(`weft.wg sent ${bytes.deviceTx} bytes, the underlay ${bytes.underlayTx}`);
    const out: WireguardDatapathResult = {
      benchmark: 'wireguard-datapath',
      settings: {
        ...o,
        sockperfMessage: 64,
        topology:
          'local cluster, 4 nodes: node1+node2 (subnet A) backend vxlan, node3+node4 (subnet B) backend wireguard; one pod per node',
      },
      ...summarizeWgSamples(samples),
      implementation,
      mtu,
      encryption,
      tunnelBytes: bytes,
      wireguardGoCpuPercent: {
        client: roundSummary(summarize(cpu.client), 1),
        server: roundSummary(summarize(cpu.server), 1),
      },
      samples,
      loadAvg1m: round(loadavg()[0] ?? 0, 2),
      durationS: Math.round((Date.now() - started) / 1000),
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    for (const s of servers) await s.stop();
    for (const a of agents) await a.proc.stop('SIGTERM', 10_000).catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const o = parseWireguardArgs(process.argv.slice(2));
  const started = Date.now();
  requireHostTools(['ip', 'wg', 'tcpdump', 'iperf3', 'sockperf', 'taskset', 'gcc', 'unshare', 'nsenter']);
  const cluster = await startWgCluster();
  const stop = () => cluster.stop({ keepLogs: process.env.WEFT_BENCH_KEEP_LOGS === '1' });
  const onSignal = () => void stop().finally(() => process.exit(1));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await run(cluster, o, started);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
