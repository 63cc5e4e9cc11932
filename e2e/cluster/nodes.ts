import { type ClusterPlan, type NodePlan, nodeIps } from './plan.js';

/** A node of the local cluster: its namespace, underlay address and private directories. */
export type ClusterNode = NodePlan;

/**
 * The v1/Node objects the harness creates (pure): an InternalIP per family (IPv4 first; one IPv6
 * in an IPv6-only cluster) + Hostname, the labels a kubelet would set.
 */
export function desiredNodeObjects(plan: ClusterPlan): object {
  return {
    apiVersion: 'v1',
    kind: 'List',
    items: plan.nodes.map((n) => ({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: n.name,
        labels: {
          'kubernetes.io/hostname': n.name,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
        },
      },
      status: {
        addresses: [
          ...nodeIps(n).map((address) => ({ type: 'InternalIP', address })),
          { type: 'Hostname', address: n.name },
        ],
      },
    })),
  };
}

/**
 * podCIDRs per node name from a NodeList, for the nodes in `names` (pure). Returns
 * undefined until every one of them has at least one podCIDR.
 */
export function parsePodCidrs(
  nodeList: unknown,
  names: readonly string[],
): Map<string, string[]> | undefined {
  const items = (nodeList as { items?: unknown }).items;
  if (!Array.isArray(items)) return undefined;
  const found = new Map<string, string[]>();
  for (const item of items as Array<{
    metadata?: { name?: string };
    spec?: { podCIDR?: string; podCIDRs?: string[] };
  }>) {
    const name = item.metadata?.name;
    if (name === undefined || !names.includes(name)) continue;
    const cidrs = item.spec?.podCIDRs ?? (item.spec?.podCIDR ? [item.spec.podCIDR] : []);
    if (cidrs.length > 0) found.set(name, cidrs);
  }
  return names.every((n) => found.has(n)) ? found : undefined;
}
