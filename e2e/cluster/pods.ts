/**
 * Pods on the local cluster, made the way a container runtime makes them: a network
 * namespace `podNetnsName(node, id)` created from the root, then the node's INSTALLED
 * conflist (weft, then portmap) executed inside the node's namespace with the CNI
 * environment (libcni's behaviour, agent/test/ns/cni-runtime.ts). Shared by the CNI
 * cluster e2e and the demo.
 */
import { join } from 'node:path';
import { CniRuntime, type RuntimeAttachment } from '../../agent/test/ns/cni-runtime.js';
import type { Cluster } from './cluster.js';
import { runCommand } from './exec.js';
import type { ClusterNode } from './nodes.js';
import { podNetnsName } from './plan.js';

export const CONFLIST_NAME = '10-weft.conflist';

export interface PortMapping {
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: 'tcp' | 'udp';
}

export interface Pod {
  readonly node: ClusterNode;
  readonly id: string;
  /** Name of the pod's network namespace (`ip netns exec <netns> …`). */
  readonly netns: string;
  /** The pod's IPv4 address (from the CNI result). */
  readonly ip: string;
  /** Its IPv6 address on a dual-stack node (undefined on an IPv4 one). */
  readonly ip6?: string | undefined;
  readonly attachment: RuntimeAttachment;
  /** The chain's final result, kept for CHECK and DEL as a runtime keeps it. */
  readonly result: Record<string, unknown>;
}

/** The runtime of one node: its installed conflist, its CNI bin dir, run inside its netns. */
export function nodeRuntime(node: ClusterNode): Promise<CniRuntime> {
  return CniRuntime.load(
    join(node.dirs.cniConf, CONFLIST_NAME),
    [node.dirs.cniBin],
    `/run/netns/${node.netns}`,
  );
}

/** The first address of a CNI result ("10.244.1.2/24" → "10.244.1.2"), IPv4 first by Weft's order. */
export function resultIp(result: Record<string, unknown>): string {
  const address = resultAddresses(result)[0];
  if (!address) throw new Error(`CNI result has no address: ${JSON.stringify(result)}`);
  return address;
}

/** Every address of a CNI result without its length, in the result's order. */
export function resultAddresses(result: Record<string, unknown>): string[] {
  const ips = result.ips as { address?: string }[] | undefined;
  return (ips ?? []).flatMap((i) => (i.address ? [i.address.split('/')[0] as string] : []));
}

/** Runs argv in the root namespace (where `ip netns add/del` belong); throws with its stderr. */
async function mustRun(argv: string[]): Promise<void> {
  const res = await runCommand(argv);
  if (res.code !== 0) throw new Error(`${argv.join(' ')}: ${res.stderr.trim()}`);
}

/** Creates the pod's namespace and runs ADD through the node's conflist; the namespace goes on failure. */
export async function addPod(
  node: ClusterNode,
  id: string,
  opts: { portMappings?: readonly PortMapping[] } = {},
): Promise<Pod> {
  const netns = podNetnsName(node, id);
  await mustRun(['ip', 'netns', 'add', netns]);
  const attachment: RuntimeAttachment = {
    containerId: `${node.name}-${id}`,
    netns: `/run/netns/${netns}`,
    ifname: 'eth0',
    ...(opts.portMappings ? { capabilityArgs: { portMappings: opts.portMappings } } : {}),
  };
  try {
    const result = await (await nodeRuntime(node)).add(attachment);
    const ip6 = resultAddresses(result).find((a) => a.includes(':'));
    return { node, id, netns, ip: resultIp(result), ip6, attachment, result };
  } catch (err) {
    await mustRun(['ip', 'netns', 'del', netns]).catch(() => undefined);
    throw err;
  }
}

/** CHECK through the whole conflist with the result ADD gave. */
export async function checkPod(pod: Pod): Promise<void> {
  await (await nodeRuntime(pod.node)).check(pod.attachment, pod.result);
}

/** DEL through the conflist (reverse order), then removes the namespace (already gone is fine). */
export async function deletePod(pod: Pod): Promise<void> {
  await (await nodeRuntime(pod.node)).del(pod.attachment, pod.result);
  await mustRun(['ip', 'netns', 'del', pod.netns]).catch(() => undefined);
}

/** Pings `ip` from inside the pod (3 probes, 0.2 s apart); true when one answered. */
export async function podPing(cluster: Cluster, pod: Pod, ip: string): Promise<boolean> {
  const r = await cluster.execInNode(pod.netns, ['ping', '-c', '3', '-i', '0.2', '-W', '1', '-q', ip]);
  return r.code === 0;
}

export interface PingOutcome {
  readonly from: string;
  readonly to: string;
  readonly ok: boolean;
}

/** Every ordered pair of distinct pods, pinged in parallel. */
export function podPingMatrix(cluster: Cluster, pods: readonly Pod[]): Promise<PingOutcome[]> {
  const pairs = pods.flatMap((a) => pods.filter((b) => b !== a).map((b) => [a, b] as const));
  return Promise.all(
    pairs.map(async ([a, b]) => ({
      from: a.netns,
      to: `${b.netns} ${b.ip}`,
      ok: await podPing(cluster, a, b.ip),
    })),
  );
}

/** Host-side veths the CNI made (weft + 8 hex) still present in the node's namespace. */
export async function leftoverVeths(cluster: Cluster, node: ClusterNode): Promise<string[]> {
  const r = await cluster.execInNode(node, ['ip', '-j', 'link', 'show', 'type', 'veth']);
  const links = JSON.parse(r.stdout || '[]') as { ifname: string }[];
  return links.map((l) => l.ifname).filter((n) => /^weft[0-9a-f]{8}$/.test(n));
}
