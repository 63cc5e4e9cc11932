/**
 * The set-up of the WireGuard datapath benchmark: one local cluster (real API
 * server and controller-manager, nodes as network namespaces) of four nodes on
 * two underlay subnets, node1 + node2 on subnet A, node3 + node4 on subnet B.
 * Real agents on all four, gossiping (the WireGuard public key travels in the
 * gossip record): node1 and node2 with `backend: vxlan`, node3 and node4 with
 * `backend: wireguard` (userspace wireguard-go where the kernel has no module,
 * each agent with its own /run for the UAPI socket). So both pairs are the same
 * shape — two nodes on one L2 segment, one pod on each made through the
 * installed CNI conflist — and both are measured in the same run, alternately.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { StatusJson } from '../agent/src/status/status.js';
import { type Cluster, type ClusterNode, startCluster } from '../e2e/cluster/index.js';
import { addPod, type Pod, podPing } from '../e2e/cluster/pods.js';
import {
  type AgentRun,
  agentGet,
  metricValue,
  prepareAgentCredentials,
  startAgent,
  waitAgentReady,
  waitFor,
  writeNetConf,
} from '../e2e/tests/fixtures/agent-cluster.js';
import { runWeftStatus } from '../e2e/tests/fixtures/gossip-cluster.js';
import { resolveWireguardGo } from '../e2e/wireguard/wireguard-go.js';
import { PORTS } from './lib/policy-levels.js';
import { benchNames, benchTag } from './lib/run-tag.js';
import { NsServer, pinTo } from './lib/traffic.js';
import type { MtuFacts, TunnelCounters, WgBackend } from './lib/wireguard-results.js';

export const DEVICE: Record<WgBackend, string> = { vxlan: 'weft.vxlan', wireguard: 'weft.wg' };

/** One backend's pair: the client pod on the first node, the server pod on the second. */
export interface WgPair {
  readonly backend: WgBackend;
  readonly client: { readonly node: ClusterNode; readonly pod: Pod };
  readonly server: { readonly node: ClusterNode; readonly pod: Pod };
}

export interface WgBench {
  readonly cluster: Cluster;
  readonly agents: AgentRun[];
  readonly pairs: Record<WgBackend, WgPair>;
  readonly podCIDRs: Map<string, string[]>;
}

/** `weft status --json` of the agent on `node`. */
export async function agentStatus(cluster: Cluster, node: ClusterNode): Promise<StatusJson> {
  return JSON.parse(await runWeftStatus(cluster, node, true)) as StatusJson;
}

/** Starts this run's cluster (four nodes, two subnets); the caller stops it, whatever fails later. */
export async function startWgCluster(): Promise<Cluster> {
  return startCluster({ name: benchNames(benchTag()).wireguardCluster, nodes: 4, subnets: 2 });
}

/** Starts the four agents, waits for both WireGuard agents to hold each other as a peer, adds the pods. */
export async function setUpWgBench(cluster: Cluster, agents: AgentRun[]): Promise<WgBench> {
  const podCIDRs = await cluster.waitForPodCIDRs();
  const kubeconfig = await prepareAgentCredentials(cluster);
  const wireguardGo = await resolveWireguardGo();
  const confOf = (backend: WgBackend) =>
    writeNetConf(cluster, backend, { network: '10.244.0.0/16', backend: { type: backend } });
  const conf = { vxlan: confOf('vxlan'), wireguard: confOf('wireguard') };
  const [n1, n2, n3, n4] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode, ClusterNode];
  const backendOf = (n: ClusterNode): WgBackend => (n === n1 || n === n2 ? 'vxlan' : 'wireguard');
  for (const node of cluster.nodes) {
    const runDir = join(node.dirs.root, 'wireguard-run');
    mkdirSync(runDir, { recursive: true });
    agents.push(
      startAgent(cluster, node, {
        netConf: conf[backendOf(node)],
        kubeconfig,
        env: {
          WEFT_LOG_LEVEL: 'info',
          WEFT_GOSSIP_INSECURE: 'true',
          WEFT_WIREGUARD_GO: wireguardGo,
          WEFT_WIREGUARD_RUN_DIR: runDir,
        },
      }),
    );
  }
  await Promise.all(cluster.nodes.map((n) => waitAgentReady(cluster, n, 120_000)));
  for (const [self, peer] of [
    [n3, n4],
    [n4, n3],
  ] as const) {
    await waitFor(
      `${self.name} has ${peer.name} on weft.wg`,
      async () => (await agentStatus(cluster, self)).wireguard?.peers.some((p) => p.name === peer.name),
      60_000,
      250,
    );
  }
  const pod = async (node: ClusterNode) => ({ node, pod: await addPod(node, 'wgb') });
  const pairs: Record<WgBackend, WgPair> = {
    vxlan: { backend: 'vxlan', client: await pod(n1), server: await pod(n2) },
    wireguard: { backend: 'wireguard', client: await pod(n3), server: await pod(n4) },
  };
  for (const p of Object.values(pairs)) {
    await waitFor(
      `${p.backend}: ${p.client.pod.ip} → ${p.server.pod.ip} pings`,
      () => podPing(cluster, p.client.pod, p.server.pod.ip),
      30_000,
      200,
    );
  }
  return { cluster, agents, pairs, podCIDRs };
}

/** iperf3, sockperf and the tcp-crr echo (binary `crr`) in the server pod of each pair. */
export async function startWgServers(b: WgBench, crr: string, cpu: number | undefined): Promise<NsServer[]> {
  const servers: NsServer[] = [];
  for (const p of Object.values(b.pairs)) {
    const ns = p.server.pod.netns;
    servers.push(await NsServer.start(ns, ['iperf3', '-s', '-p', String(PORTS.iperf)]));
    servers.push(
      await NsServer.start(ns, [
        ...pinTo(cpu),
        ...['sockperf', 'server', '--tcp', '-i', '0.0.0.0', '-p', String(PORTS.sockperf)],
      ]),
    );
    servers.push(await NsServer.start(ns, [...pinTo(cpu), crr, 'serve', String(PORTS.echo)]));
  }
  return servers;
}

interface LinkFacts {
  readonly mtu: number;
  readonly txBytes: number;
  readonly rxBytes: number;
}

/** MTU and byte counters of `dev` in namespace `netns` (`ip -s -j link`). */
async function linkFacts(cluster: Cluster, netns: string, dev: string): Promise<LinkFacts> {
  const r = await cluster.execInNode(netns, ['ip', '-s', '-j', 'link', 'show', 'dev', dev]);
  type Link = { mtu?: number; stats64?: { rx?: { bytes?: number }; tx?: { bytes?: number } } };
  const link = r.code === 0 ? (JSON.parse(r.stdout || '[]') as Link[])[0] : undefined;
  const { mtu } = link ?? {};
  if (mtu === undefined) throw new Error(`${dev} in ${netns}: ${r.stderr.trim() || 'no such link'}`);
  return { mtu, txBytes: link?.stats64?.tx?.bytes ?? 0, rxBytes: link?.stats64?.rx?.bytes ?? 0 };
}

/** The MTUs in force for one pair: the client node's underlay and tunnel device, the client pod's eth0. */
export async function mtuFacts(b: WgBench, backend: WgBackend): Promise<MtuFacts> {
  const { node, pod } = b.pairs[backend].client;
  return {
    underlay: (await linkFacts(b.cluster, node.netns, node.iface)).mtu,
    device: DEVICE[backend],
    deviceMtu: (await linkFacts(b.cluster, node.netns, DEVICE[backend])).mtu,
    pod: (await linkFacts(b.cluster, pod.netns, 'eth0')).mtu,
  };
}

/** Which implementation the client node's agent uses: its status and its weft_wireguard_implementation metric. */
export async function wireguardImplementation(b: WgBench) {
  const { node } = b.pairs.wireguard.client;
  const wg = (await agentStatus(b.cluster, node)).wireguard;
  if (!wg) throw new Error(`${node.name}: weft status shows no WireGuard device`);
  const metrics = (await agentGet(b.cluster, node, '/metrics')).body;
  const inUse = ['kernel', 'userspace', 'none'].filter(
    (k) => metricValue(metrics, 'weft_wireguard_implementation', `{implementation="${k}"}`) === 1,
  );
  if (inUse.length !== 1 || inUse[0] !== wg.implementation)
    throw new Error(`weft_wireguard_implementation says ${inUse.join(',')}, status ${wg.implementation}`);
  const metric = `weft_wireguard_implementation{implementation="${inUse[0]}"} 1`;
  return { kind: wg.implementation, detail: wg.detail, metric };
}

/** Byte counters on the WireGuard client node: weft.wg (inner packets) and the underlay (what went on the wire). */
export async function tunnelCounters(b: WgBench): Promise<TunnelCounters> {
  const { node } = b.pairs.wireguard.client;
  const wg = await linkFacts(b.cluster, node.netns, DEVICE.wireguard);
  const wire = await linkFacts(b.cluster, node.netns, node.iface);
  return { deviceTx: wg.txBytes, deviceRx: wg.rxBytes, underlayTx: wire.txBytes, underlayRx: wire.rxBytes };
}
