/**
 * What the upstream e2e framework needs from the real-node cluster beyond Weft and CoreDNS,
 * as on a real cluster:
 * - the API server reaches pod IPs (`pods/proxy`, `services/proxy`, which every DNS spec reads
 *   its results through): on a real cluster the control-plane host is a node of the pod
 *   network, or the network routes the pod CIDRs. Here the control plane's namespace gets a
 *   route to each node's podCIDR via that node's underlay IP; for a node on another subnet via
 *   the router, whose own route to that podCIDR is used only for packets from the control
 *   plane (a policy rule), so that node-to-node pod traffic never takes the router's path
 *   instead of Weft's routes or VXLAN. All of it inside the cluster's namespaces.
 * - a distinct `topology.kubernetes.io/zone` on every node (Traffic Distribution, Topology
 *   Hints), as a cloud provider sets.
 * `plan*` are pure; `apply*` run them.
 */
import { runChecked } from '../cluster/exec.js';
import type { ClusterNode } from '../cluster/nodes.js';

/** Route table and rule priority in the router namespace for the control plane's pod routes. */
export const CONTROL_PLANE_ROUTE_TABLE = 201;

export interface PodRouteInput {
  controlPlaneNetns: string;
  controlPlaneIp: string;
  /** The control plane's underlay subnet (CIDR) and its gateway, the router. */
  controlPlaneSubnet: string;
  controlPlaneGateway: string;
  routerNetns: string;
  nodes: ReadonlyArray<Pick<ClusterNode, 'name' | 'ip' | 'subnet'>>;
  /** Node name → its podCIDRs (the API server's view). */
  podCidrs: ReadonlyMap<string, readonly string[]>;
}

/** The `ip` commands (argv each) that let the control plane reach every pod (pure). */
export function planControlPlanePodRoutes(i: PodRouteInput): string[][] {
  const cmds: string[][] = [];
  let viaRouter = false;
  for (const n of i.nodes) {
    const cidrs = i.podCidrs.get(n.name) ?? [];
    if (cidrs.length === 0) throw new Error(`node ${n.name} has no podCIDR`);
    for (const cidr of cidrs) {
      // Routes of the underlay's family (the nodes' primary addresses): the IPv4 podCIDRs of an
      // IPv4 or dual-stack cluster (the API server reaches pods at their first address), the
      // IPv6 ones of an IPv6-only cluster.
      if (cidr.includes(':') !== n.ip.includes(':')) continue;
      if (n.subnet === i.controlPlaneSubnet) {
        cmds.push(['ip', '-n', i.controlPlaneNetns, 'route', 'replace', cidr, 'via', n.ip]);
        continue;
      }
      viaRouter = true;
      cmds.push(['ip', '-n', i.controlPlaneNetns, 'route', 'replace', cidr, 'via', i.controlPlaneGateway]);
      cmds.push([
        'ip',
        '-n',
        i.routerNetns,
        'route',
        'replace',
        cidr,
        'via',
        n.ip,
        'table',
        String(CONTROL_PLANE_ROUTE_TABLE),
      ]);
    }
  }
  if (viaRouter) {
    const table = String(CONTROL_PLANE_ROUTE_TABLE);
    const family = i.controlPlaneIp.includes(':') ? ['-6'] : [];
    // `rule add` is not idempotent: delete first (ignored when absent, see applyControlPlanePodRoutes).
    cmds.unshift(['ip', ...family, '-n', i.routerNetns, 'rule', 'del', 'pref', table]);
    cmds.push([
      'ip',
      ...family,
      '-n',
      i.routerNetns,
      'rule',
      'add',
      'pref',
      table,
      'from',
      i.controlPlaneIp,
      'lookup',
      table,
    ]);
  }
  return cmds;
}

export async function applyControlPlanePodRoutes(i: PodRouteInput): Promise<void> {
  for (const argv of planControlPlanePodRoutes(i)) {
    if (argv.includes('del')) await runChecked(argv).catch(() => undefined);
    else await runChecked(argv);
  }
}

export const ZONE_LABEL = 'topology.kubernetes.io/zone';

/** `kubectl label` arguments giving each node a zone of its own (pure): zone-1, zone-2, … by node order. */
export function planZoneLabels(nodes: ReadonlyArray<Pick<ClusterNode, 'name'>>): string[][] {
  return nodes.map((n, k) => ['label', 'node', n.name, '--overwrite', `${ZONE_LABEL}=zone-${k + 1}`]);
}
