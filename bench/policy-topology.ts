/**
 * Network-namespace set-up of the policy datapath benchmark: per backend
 * (host-gw, VXLAN) one copy of the datapath test topology under
 * `<prefix>-pg` / `<prefix>-pv`, the real agent Datapath on n1 and n2 with
 * NetworkPolicy on, and the four pods of lib/policy-levels.ts on the node
 * bridges. A level is applied the way the agent's policy engine does it:
 * compile for the node, setPolicy, sync trusting the last apply.
 */
import { fileURLToPath } from 'node:url';
import type { DatapathConfig } from '../agent/src/datapath/types.js';
import { type CompiledPolicy, compilePolicies } from '../agent/src/policy/compile.js';
import type { NetworkPolicy } from '../agent/src/policy/types.js';
import { buildTopology, type Topology, testConfig } from '../agent/test/ns/datapath-topology.js';
import { NetnsSet, run } from '../agent/test/ns/netns-helpers.js';
import { addPod, cleanupSets, type Endpoint, nsPrefix, setUpWeft } from './datapath-paths.js';
import { kernelCounts, type LevelCheck, policyDifferences } from './lib/policy-kernel.js';
import { MEASURED, type MeasuredPod, PORTS, type PolicyCluster } from './lib/policy-levels.js';
import type { PolicyBackend } from './lib/policy-results.js';
import { NsServer, pinTo } from './lib/traffic.js';

const SHORT: Record<PolicyBackend, string> = { hostgw: 'pg', vxlan: 'pv' };
const PEER = fileURLToPath(new URL('../agent/test/ns/policy-peer.js', import.meta.url));

export interface PolicyVariant {
  readonly backend: PolicyBackend;
  readonly set: NetnsSet;
  readonly topology: Topology;
  readonly config: DatapathConfig;
  readonly pods: Record<MeasuredPod, Endpoint>;
}

/** Builds one backend's topology, datapath with NetworkPolicy (no policy yet) and the four pods. */
export async function buildPolicyVariant(
  backend: PolicyBackend,
  prefix = nsPrefix(),
): Promise<PolicyVariant> {
  const set = new NetnsSet(`${prefix}-${SHORT[backend]}`);
  await set.cleanup();
  try {
    const topology = await buildTopology(set);
    const config = testConfig(backend, { networkPolicy: true });
    const mtu = await setUpWeft(topology, config);
    const pods = {} as Record<MeasuredPod, Endpoint>;
    for (const [name, m] of Object.entries(MEASURED) as [MeasuredPod, (typeof MEASURED)[MeasuredPod]][]) {
      const node = m.node === 'n1' ? topology.n1 : topology.n2;
      const gateway = m.ip.replace(/\.\d+$/, '.1');
      pods[name] = await addPod(set, node.ns, config.bridgeName, name, `${m.ip}/24`, gateway, mtu);
    }
    return { backend, set, topology, config, pods };
  } catch (err) {
    await set.cleanup();
    throw err;
  }
}

/** Removes every namespace of one run's policy variants (`<prefix>-pg-*`, `<prefix>-pv-*`); safe to repeat. */
export async function cleanupPolicyVariants(prefix = nsPrefix()): Promise<void> {
  await cleanupSets(prefix, Object.values(SHORT));
}

/**
 * The servers of one variant: iperf3, sockperf and the tcp-crr echo (binary
 * `crr`) on srv; a tcp-crr echo on opn (the open probe's target).
 */
export async function startPolicyServers(
  v: PolicyVariant,
  crr: string,
  cpu: number | undefined,
): Promise<NsServer[]> {
  const echo = (ns: string) => NsServer.start(ns, [...pinTo(cpu), crr, 'serve', String(PORTS.echo)]);
  const srv = v.pods.srv.ns;
  return [
    await NsServer.start(srv, ['iperf3', '-s', '-p', String(PORTS.iperf)]),
    await NsServer.start(srv, [
      ...pinTo(cpu),
      ...['sockperf', 'server', '--tcp', '-i', '0.0.0.0', '-p', String(PORTS.sockperf)],
    ]),
    await echo(srv),
    await echo(v.pods.opn.ns),
  ];
}

export interface LevelApplied {
  readonly n1: CompiledPolicy;
  readonly n2: CompiledPolicy;
  /** Compile + sync of both nodes, in ms. */
  readonly applyMs: number;
}

/** Compiles `policies` for n1 and n2 and applies each node's part through its Datapath. */
export async function applyLevel(
  v: PolicyVariant,
  cluster: PolicyCluster,
  policies: readonly NetworkPolicy[],
): Promise<LevelApplied> {
  const started = performance.now();
  const { n1, n2 } = v.topology;
  const out: Partial<Record<'n1' | 'n2', CompiledPolicy>> = {};
  for (const [key, node, peer] of [
    ['n1', n1, n2],
    ['n2', n2, n1],
  ] as const) {
    const compiled = compilePolicies({ nodeName: key, ...cluster, policies, sctp: false });
    node.datapath.setPolicy(compiled.content);
    await node.datapath.sync(node.self, [peer.self], v.config, { trustLastApplied: true });
    out[key] = compiled;
  }
  return { n1: out.n1 as CompiledPolicy, n2: out.n2 as CompiledPolicy, applyMs: performance.now() - started };
}

/** True when a new TCP connection from `ns` to ip:port gets its echo within 800 ms. */
async function connects(ns: string, ip: string, port: number): Promise<boolean> {
  try {
    await run('ip', ['netns', 'exec', ns, process.execPath, PEER, 'probe', ip, String(port), '800']);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks that the level is in force before it is measured: each node's table
 * holds every compiled chain, set and map entry; cli → srv connects; dny → opn
 * (neither selected) connects; and with policies, dny → srv (ingress at n2)
 * and cli → opn (egress at n1) are refused. Throws when any of that fails.
 */
export async function checkLevel(v: PolicyVariant, applied: LevelApplied): Promise<LevelCheck> {
  const problems: string[] = [];
  const node = async (key: 'n1' | 'n2', chainOf: 'egressChain' | 'ingressChain', pod: MeasuredPod) => {
    const table = await v.topology[key].netlink.readNftTable('inet', 'weft');
    if (!table) throw new Error(`${v.backend} ${key}: table inet weft is missing`);
    const compiled = applied[key];
    problems.push(...policyDifferences(table, compiled.content).map((d) => `${key}: ${d}`));
    const chain = compiled.selections.find((s) => s.ip === MEASURED[pod].ip)?.[chainOf];
    return { ...kernelCounts(table, chain), enforcedPolicies: compiled.enforcedPolicies };
  };
  const { cli, dny, srv, opn } = v.pods;
  const [n1, n2, allowed, open, ingressOpen, egressOpen] = await Promise.all([
    node('n1', 'egressChain', 'cli'),
    node('n2', 'ingressChain', 'srv'),
    connects(cli.ns, srv.ip, PORTS.echo),
    connects(dny.ns, opn.ip, PORTS.echo),
    connects(dny.ns, srv.ip, PORTS.echo),
    connects(cli.ns, opn.ip, PORTS.echo),
  ]);
  const isolated = applied.n1.enforcedPolicies > 0;
  if (!allowed) problems.push('cli → srv (allowed) did not connect');
  if (!open) problems.push('dny → opn (no policy selects either) did not connect');
  if (ingressOpen === isolated) problems.push(`dny → srv ${isolated ? 'connected' : 'was refused'}`);
  if (egressOpen === isolated) problems.push(`cli → opn ${isolated ? 'connected' : 'was refused'}`);
  if (problems.length > 0) throw new Error(`${v.backend}: policy not as compiled: ${problems.join('; ')}`);
  return {
    n1,
    n2,
    refused: { ingressAtN2: !ingressOpen, egressAtN1: !egressOpen },
    applyMs: Math.round(applied.applyMs),
  };
}
