/**
 * Dual-stack datapath benchmark (not a test; ADR 18): pod↔pod TCP throughput over IPv6
 * as a ratio to IPv4 between the same two pods on two nodes, host-gw and VXLAN. The
 * nodes run the agent's own Datapath.sync() with an IPv4 and an IPv6 cluster CIDR on
 * the dual-stack namespace topology (agent/test/ns/datapath-topology.ts, `ipv6: true`);
 * each pod has one address per family. Per repetition and backend, iperf3 runs TCP ×1
 * and ×4 over both families back to back (the family going first alternates), and the
 * ratio is taken within that pair, so load from elsewhere on the machine hits both alike.
 *
 * Before measuring, per backend, on node n1: the route kind Datapath.sync() chose for the
 * peer per family, the kernel routes to the peer's podCIDRs, a full-size ping (the pod
 * MTU) per family, and with VXLAN a capture on the underlay that reads the outer and
 * inner lengths of both families' encapsulated pings (one IPv4 tunnel: 50 bytes each).
 * Every iperf3 run must report it connected from the client pod's address to the server
 * pod's of the family measured. Prints one JSON object on stdout; progress on stderr.
 *
 *   node dist/bench/datapath-ipv6.js [--quick] [--reps 10] [--seconds 5]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatapathConfig, SyncResult } from '../agent/src/datapath/types.js';
import { captureOn } from '../agent/test/ns/capture.js';
import { buildTopology, type Topology, testConfig } from '../agent/test/ns/datapath-topology.js';
import { NetnsSet, nsIpBatch, nsIpJson, nsRun } from '../agent/test/ns/netns-helpers.js';
import { requireHostTools } from '../scripts/host-tools.js';
import { addPod, cleanedUpOnError, cleanupSets, type Endpoint, nsPrefix } from './datapath-paths.js';
import {
  checkConnected,
  emptyV6Samples,
  encapsulated,
  FAMILIES,
  type Family,
  type Ipv6DatapathResult,
  type Ipv6Options,
  type PathCheck,
  pairOrder,
  parseIpv6Args,
  summarizeV6Samples,
  V6_BACKENDS,
  type V6Backend,
  type V6Samples,
} from './lib/ipv6-results.js';
import { round } from './lib/stats.js';
import { NsServer, retryOnce, runIperf } from './lib/traffic.js';
import { parsePcap } from './lib/underlay-capture.js';

export type { Ipv6DatapathResult };

const IPERF_PORT = 5201;
const VXLAN_PORT = 8472;
/** Namespace sets `<run prefix>-6g` / `-6v`: the run prefix carries the run's tag (lib/run-tag.ts). */
const SHORT: Record<V6Backend, string> = { hostgw: '6g', vxlan: '6v' };
const progress = (msg: string) => process.stderr.write(`[datapath-ipv6] ${msg}\n`);

const dualConfig = (backend: V6Backend): DatapathConfig =>
  testConfig(backend, { clusterCIDRs: ['10.244.0.0/16', 'fd00:10:244::/56'] });

/** A pod with one address per family. */
interface DualPod {
  readonly ns: string;
  readonly ip: Record<Family, string>;
}

interface Bench {
  readonly set: NetnsSet;
  readonly t: Topology;
  readonly sync: SyncResult;
  readonly client: DualPod;
  readonly server: DualPod;
}

/** Pod `suffix` on node `n` (1 or 2): 10.244.<n>.10 and fd00:10:244:<n>::10, default routes via the bridge. */
async function addDualPod(
  set: NetnsSet,
  t: Topology,
  n: 1 | 2,
  suffix: string,
  mtu: number,
): Promise<DualPod> {
  const node = n === 1 ? t.n1 : t.n2;
  const v4: Endpoint = await addPod(set, node.ns, 'weft0', suffix, `10.244.${n}.10/24`, `10.244.${n}.1`, mtu);
  const ip6 = `fd00:10:244:${n}::10`;
  await nsIpBatch(v4.ns, [`addr add ${ip6}/64 dev eth0 nodad`, `route add default via fd00:10:244:${n}::1`]);
  return { ns: v4.ns, ip: { ipv4: v4.ip, ipv6: ip6 } };
}

async function build(backend: V6Backend, prefix: string): Promise<Bench> {
  const set = new NetnsSet(`${prefix}-${SHORT[backend]}`);
  await set.cleanup();
  return cleanedUpOnError(set, async () => {
    const t = await buildTopology(set, { ipv6: true });
    const config = dualConfig(backend);
    const sync = await t.n1.datapath.sync(t.n1.self, [t.n2.self], config);
    const sync2 = await t.n2.datapath.sync(t.n2.self, [t.n1.self], config);
    if (sync.mtu !== sync2.mtu) throw new Error(`${backend}: pod MTU ${sync.mtu} on n1, ${sync2.mtu} on n2`);
    const client = await addDualPod(set, t, 1, 'pa', sync.mtu);
    const server = await addDualPod(set, t, 2, 'pc', sync.mtu);
    return { set, t, sync, client, server };
  });
}

/** Removes every namespace of one run's dual-stack benchmark (`<prefix>-6g-*`, `<prefix>-6v-*`); safe to repeat. */
export async function cleanupIpv6Variants(prefix = nsPrefix()): Promise<void> {
  await cleanupSets(prefix, Object.values(SHORT));
}

const pingArgs = (f: Family, to: string, size: number) =>
  f === 'ipv4'
    ? ['-4', '-M', 'do', '-c', '1', '-W', '2', '-s', String(size), to]
    : ['-6', '-M', 'do', '-c', '1', '-W', '2', '-s', String(size), to];

/** A full-size ping (the pod MTU, not fragmented) from client to server; retried while IPv6 neighbours settle. */
async function pingFullSize(b: Bench, f: Family): Promise<number> {
  const size = b.sync.mtu - (f === 'ipv4' ? 28 : 48);
  for (let i = 0; ; i++) {
    try {
      await nsRun(b.client.ns, 'ping', pingArgs(f, b.server.ip[f], size));
      return size + (f === 'ipv4' ? 28 : 48);
    } catch (err) {
      if (i >= 20)
        throw new Error(
          `${f}: ${b.client.ns} cannot ping ${b.server.ip[f]} at ${size} bytes: ${(err as Error).message}`,
        );
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

const routeText = async (ns: string, f: Family, dst: string) => {
  const routes = await nsIpJson<{ dst: string; gateway?: string; dev?: string; flags?: string[] }>(ns, [
    f === 'ipv4' ? '-4' : '-6',
    'route',
    'show',
    dst,
  ]);
  return routes
    .map(
      (r) =>
        `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''} dev ${r.dev}${r.flags?.includes('onlink') ? ' onlink' : ''}`,
    )
    .join('; ');
};

/** The checks of the file header; throws when the path is not the one the backend should give both families. */
async function checkPath(b: Bench, backend: V6Backend, dir: string): Promise<PathCheck> {
  const peer = b.t.n2.self;
  const [cidr4, cidr6] = peer.podCIDRs as [string, string];
  const routeKind = {
    ipv4: b.sync.peerRoutes.get(peer.name) ?? 'none',
    ipv6: b.sync.peerRoutes6.get(peer.name) ?? 'none',
  };
  const want = backend === 'hostgw' ? 'direct' : 'vxlan';
  for (const f of FAMILIES)
    if (routeKind[f] !== want)
      throw new Error(`${backend}: n1 routes n2's ${f} podCIDR as ${routeKind[f]}, want ${want}`);
  const route = {
    ipv4: await routeText(b.t.n1.ns, 'ipv4', cidr4),
    ipv6: await routeText(b.t.n1.ns, 'ipv6', cidr6),
  };
  const wantRoute =
    backend === 'hostgw'
      ? { ipv4: `via ${peer.underlayIP} dev eth0`, ipv6: `via ${peer.underlayIP6} dev eth0` }
      : { ipv4: 'dev weft.vxlan onlink', ipv6: 'dev weft.vxlan onlink' };
  for (const f of FAMILIES)
    if (!route[f].includes(wantRoute[f]))
      throw new Error(`${backend}: n1's ${f} route to n2 is "${route[f]}", want ${wantRoute[f]}`);
  const fullSizePing = { ipv4: 0, ipv6: 0 };
  if (backend === 'hostgw') {
    for (const f of FAMILIES) fullSizePing[f] = await pingFullSize(b, f);
    return { routeKind, route, fullSizePing };
  }
  // Settle neighbours first, so the capture sees just the two full-size echo requests and replies.
  for (const f of FAMILIES) await pingFullSize(b, f);
  const { raw } = await captureOn(
    b.t.n1.ns,
    'eth0',
    dir,
    async () => {
      for (const f of FAMILIES) fullSizePing[f] = await pingFullSize(b, f);
    },
    `udp port ${VXLAN_PORT}`,
  );
  const enc = encapsulated(parsePcap(raw), VXLAN_PORT);
  for (const f of FAMILIES) {
    const full = enc.filter((e) => e.family === f && e.innerBytes === fullSizePing[f]);
    if (full.length === 0)
      throw new Error(
        `vxlan: no ${f} packet of ${fullSizePing[f]} bytes in the tunnel: ${JSON.stringify(enc)}`,
      );
  }
  return { routeKind, route, fullSizePing, encapsulated: enc };
}

async function txBytes(ns: string, dev: string): Promise<number> {
  const [l] = await nsIpJson<{ stats64?: { tx?: { bytes?: number } } }>(ns, [
    '-s',
    'link',
    'show',
    'dev',
    dev,
  ]);
  return l?.stats64?.tx?.bytes ?? 0;
}

async function mtuOf(ns: string, dev: string): Promise<number> {
  const [l] = await nsIpJson<{ mtu: number }>(ns, ['link', 'show', 'dev', dev]);
  return l?.mtu ?? 0;
}

async function measure(benches: Record<V6Backend, Bench>, o: Ipv6Options) {
  const samples: V6Samples = emptyV6Samples();
  const mss = Object.fromEntries(V6_BACKENDS.map((b) => [b, { ipv4: undefined, ipv6: undefined }])) as Record<
    V6Backend,
    Record<Family, number | undefined>
  >;
  let vxlanTx6 = 0;
  for (let rep = 0; rep < o.reps; rep++) {
    const order = pairOrder(rep);
    for (const backend of order.backends) {
      const b = benches[backend];
      for (const [metric, streams] of [
        ['tcp1Gbps', 1],
        ['tcp4Gbps', 4],
      ] as const) {
        const pair: string[] = [];
        for (const f of order.families) {
          const what = `rep ${rep + 1} ${backend} tcp×${streams} ${f}`;
          const tx0 = backend === 'vxlan' && f === 'ipv6' ? await txBytes(b.t.n1.ns, 'weft.vxlan') : 0;
          const r = await retryOnce(what, progress, () =>
            runIperf(b.client.ns, b.server.ip[f], { seconds: o.seconds, port: IPERF_PORT, streams }),
          );
          if (backend === 'vxlan' && f === 'ipv6') vxlanTx6 += (await txBytes(b.t.n1.ns, 'weft.vxlan')) - tx0;
          checkConnected(what, r.connected, b.client.ip[f], b.server.ip[f]);
          samples[backend][f][metric].push(r.gbps);
          mss[backend][f] ??= r.mss;
          pair.push(`${f} ${r.gbps.toFixed(2)}`);
        }
        progress(`rep ${rep + 1} ${backend} tcp×${streams}: ${pair.join(', ')} Gbit/s`);
      }
    }
  }
  return { samples, mss, vxlanTx6 };
}

/** Builds both backends, checks their paths, measures; the result as printed. */
async function runBench(o: Ipv6Options, prefix: string, dir: string, servers: NsServer[]) {
  const started = Date.now();
  const loadAvg1mStart = round(loadavg()[0] ?? 0, 2);
  const benches = {} as Record<V6Backend, Bench>;
  const pathChecks = {} as Record<V6Backend, PathCheck>;
  const mtu = {} as Ipv6DatapathResult['mtu'];
  for (const backend of V6_BACKENDS) {
    const b = await build(backend, prefix);
    benches[backend] = b;
    pathChecks[backend] = await checkPath(b, backend, dir);
    mtu[backend] = {
      underlay: await mtuOf(b.t.n1.ns, 'eth0'),
      pod: b.sync.mtu,
      ...(backend === 'vxlan' ? { vxlanDevice: await mtuOf(b.t.n1.ns, 'weft.vxlan') } : {}),
    };
    progress(`built ${backend} (pod MTU ${b.sync.mtu}): ${JSON.stringify(pathChecks[backend])}`);
    servers.push(await NsServer.start(b.server.ns, ['iperf3', '-s', '-p', String(IPERF_PORT)]));
  }
  const { samples, mss, vxlanTx6 } = await measure(benches, o);
  const result: Ipv6DatapathResult = {
    benchmark: 'datapathIpv6',
    settings: o,
    ...summarizeV6Samples(samples),
    samples,
    mtu,
    mss,
    pathChecks,
    vxlanTxBytesDuringIpv6: vxlanTx6,
    loadAvg1mStart,
    loadAvg1m: round(loadavg()[0] ?? 0, 2),
    durationS: Math.round((Date.now() - started) / 1000),
  };
  return result;
}

async function main(): Promise<void> {
  const o = parseIpv6Args(process.argv.slice(2));
  requireHostTools(['ip', 'nft', 'iperf3', 'ping', 'tcpdump', 'sysctl']);
  const prefix = nsPrefix();
  const dir = await mkdtemp(join(tmpdir(), 'weft-bench-ipv6-'));
  const servers: NsServer[] = [];
  await cleanupIpv6Variants(prefix);
  try {
    process.stdout.write(`${JSON.stringify(await runBench(o, prefix, dir, servers), null, 2)}\n`);
  } finally {
    for (const s of servers) await s.stop();
    await cleanupIpv6Variants(prefix);
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
