import { join } from 'node:path';
import type { IpFamilyMode, ResolvedClusterSpec } from './spec.js';

/**
 * The address plan of a local cluster (pure; see README.md for the picture).
 *
 * Underlay subnet A 172.28.1.0/24 and B 172.28.2.0/24 are L2 segments: a bridge per
 * subnet (`bra`, `brb`) inside the router namespace, which also owns .1 on each and
 * forwards between them. The control plane sits on A (.2); node i gets .(10+i) on A
 * (first half of the nodes) or B (the rest). The external host is on 203.0.113.0/24
 * behind the router, with a route back to the underlay only (no route to pod CIDRs).
 */
export const CLUSTER_CIDR = '10.244.0.0/16';
export const NODE_CIDR_MASK = 24;
export const SERVICE_CIDR = '10.96.0.0/16';
export const API_PORT = 6443;
export const UNDERLAY_SUPERNET = '172.28.0.0/16';
export const SUBNET_A = { cidr: '172.28.1.0/24', gateway: '172.28.1.1', bridge: 'bra', prefix: 24 } as const;
export const SUBNET_B = { cidr: '172.28.2.0/24', gateway: '172.28.2.1', bridge: 'brb', prefix: 24 } as const;
export const EXTERNAL = {
  cidr: '203.0.113.0/24',
  routerIp: '203.0.113.1',
  ip: '203.0.113.2',
  prefix: 24,
} as const;
export const CONTROL_PLANE_IP = '172.28.1.2';

/**
 * The IPv6 side of a dual-stack cluster (spec.ipFamily 'dual'), and the whole underlay of an
 * IPv6-only one ('ipv6'): the same picture with ULA underlay subnets fd00:28:1::/64 (A) and
 * fd00:28:2::/64 (B) on the same bridges, the router ::1 on each, node i ::<10+i in decimal
 * digits> (node1 fd00:28:1::11), and the external host on 2001:db8:113::/64 (documentation
 * prefix, reachable only inside the cluster's namespaces).
 */
export const CLUSTER_CIDR6 = 'fd00:10:244::/56';
export const NODE_CIDR_MASK6 = 64;
export const SERVICE_CIDR6 = 'fd00:10:96::/112';
export const UNDERLAY_SUPERNET6 = 'fd00:28::/32';
export const SUBNET_A6 = {
  cidr: 'fd00:28:1::/64',
  gateway: 'fd00:28:1::1',
  bridge: 'bra',
  prefix: 64,
} as const;
export const SUBNET_B6 = {
  cidr: 'fd00:28:2::/64',
  gateway: 'fd00:28:2::1',
  bridge: 'brb',
  prefix: 64,
} as const;
export const EXTERNAL6 = {
  cidr: '2001:db8:113::/64',
  routerIp: '2001:db8:113::1',
  ip: '2001:db8:113::2',
  prefix: 64,
} as const;
export const CONTROL_PLANE_IP6 = 'fd00:28:1::2';

/** The IPv6 subnet on the same bridge as `subnet` (an IPv6 subnet is its own). */
export function subnet6Of(subnet: SubnetPlan): typeof SUBNET_A6 | typeof SUBNET_B6 {
  return subnet.bridge === SUBNET_B.bridge ? SUBNET_B6 : SUBNET_A6;
}

/** The underlay carries IPv4 ('ipv4', 'dual'; plans written before ipFamily existed are ipv4). */
export function hasIPv4(ipFamily: IpFamilyMode | undefined): boolean {
  return ipFamily !== 'ipv6';
}

/** The underlay carries IPv6 ('dual', 'ipv6'). */
export function hasIPv6(ipFamily: IpFamilyMode | undefined): boolean {
  return ipFamily === 'dual' || ipFamily === 'ipv6';
}

/** One CIDR per family the cluster serves, IPv4 first (as kubeadm writes a dual-stack one). */
function perFamily(ipFamily: IpFamilyMode | undefined, v4: string, v6: string): string[] {
  return [...(hasIPv4(ipFamily) ? [v4] : []), ...(hasIPv6(ipFamily) ? [v6] : [])];
}

/** The cluster (pod) CIDRs of kube-controller-manager, kube-proxy and Weft's net-conf. */
export function clusterCidrs(ipFamily: IpFamilyMode | undefined): string[] {
  return perFamily(ipFamily, CLUSTER_CIDR, CLUSTER_CIDR6);
}

/** The Service CIDRs (`--service-cluster-ip-range`). */
export function serviceCidrs(ipFamily: IpFamilyMode | undefined): string[] {
  return perFamily(ipFamily, SERVICE_CIDR, SERVICE_CIDR6);
}

/**
 * The ClusterIP of the `kubernetes` Service (first address of the primary Service CIDR) and the
 * control plane's loopback address: both are in the API server's serving certificate.
 */
export function primaryServiceIp(ipFamily: IpFamilyMode | undefined): string {
  return ipFamily === 'ipv6' ? 'fd00:10:96::1' : '10.96.0.1';
}
export function loopbackIp(ipFamily: IpFamilyMode | undefined): string {
  return ipFamily === 'ipv6' ? '::1' : '127.0.0.1';
}

/** `host:port` of a URL, IPv6 literals in brackets. */
export function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** A node's InternalIPs: its primary underlay address, then its IPv6 one on a dual-stack node. */
export function nodeIps(node: Pick<NodePlan, 'ip' | 'ip6'>): string[] {
  return node.ip6 && node.ip6 !== node.ip ? [node.ip, node.ip6] : [node.ip];
}

/** The address families of a node's underlay, from its addresses. */
export function ipFamilyOfNode(node: Pick<NodePlan, 'ip' | 'ip6'>): IpFamilyMode {
  if (node.ip6 === undefined) return 'ipv4';
  return node.ip6 === node.ip ? 'ipv6' : 'dual';
}
/** Interface name of the underlay inside every node/control-plane/external namespace. */
export const UNDERLAY_IFACE = 'eth0';

/** An underlay subnet of the plan's primary family: IPv4 ('ipv4', 'dual') or IPv6 ('ipv6'). */
export type SubnetPlan = typeof SUBNET_A | typeof SUBNET_B | typeof SUBNET_A6 | typeof SUBNET_B6;

export interface NodePlan {
  index: number; // 1-based
  name: string; // v1/Node name
  netns: string;
  /** Its primary underlay address (its first InternalIP): IPv4, or IPv6 in an IPv6-only cluster. */
  ip: string;
  subnet: string; // CIDR of its underlay subnet (of the primary family)
  gateway: string;
  /**
   * The node's IPv6 underlay address and its router: on a dual-stack node its second address, on
   * an IPv6-only node the same as ip/gateway (undefined with ipFamily ipv4).
   */
  ip6?: string;
  gateway6?: string;
  bridge: string; // bridge in the router namespace it is attached to
  routerPort: string; // veth end in the router namespace
  iface: string; // veth end inside the node namespace
  dirs: { root: string; cniBin: string; cniConf: string; run: string; state: string };
}

export interface ClusterPlan {
  name: string;
  runDir: string;
  nsPrefix: string;
  /** 'ipv4', 'dual' or 'ipv6' (spec.ipFamily); plans written before it existed are ipv4. */
  ipFamily?: IpFamilyMode;
  routerNetns: string;
  controlPlaneNetns: string;
  externalNetns: string;
  subnets: SubnetPlan[];
  controlPlane: { ip: string; routerPort: string };
  external: { ip: string; routerPort: string };
  apiServerURL: string;
  nodes: NodePlan[];
}

/** Prefix of every network namespace the cluster `name` owns ("wc" + name + "-"). */
export function netnsPrefix(name: string): string {
  return `wc${name}-`;
}

/** Which subnet node `index` (1-based) of `total` sits on: first half (rounded up) on A. */
export function subnetOfNode(
  index: number,
  total: number,
  subnets: 1 | 2,
  ipFamily: IpFamilyMode = 'ipv4',
): SubnetPlan {
  const [a, b] = underlaySubnets(ipFamily);
  if (subnets === 1) return a;
  return index <= Math.ceil(total / 2) ? a : b;
}

/** Subnet A and B of the primary family. */
function underlaySubnets(ipFamily: IpFamilyMode | undefined): [SubnetPlan, SubnetPlan] {
  return hasIPv4(ipFamily) ? [SUBNET_A, SUBNET_B] : [SUBNET_A6, SUBNET_B6];
}

/** Host `host` (10 + node index, 2 = control plane) on `subnet`: 172.28.1.11, fd00:28:1::11. */
function hostOn(subnet: SubnetPlan, host: number): string {
  return subnet.prefix === 64
    ? `${subnet.gateway.slice(0, -1)}${host}`
    : `${subnet.cidr.split('.').slice(0, 3).join('.')}.${host}`;
}

export function computeClusterPlan(spec: ResolvedClusterSpec): ClusterPlan {
  const prefix = netnsPrefix(spec.name);
  const runDir = join(spec.runRoot, spec.name);
  const v4 = hasIPv4(spec.ipFamily);
  const controlPlaneIp = v4 ? CONTROL_PLANE_IP : CONTROL_PLANE_IP6;
  const nodes: NodePlan[] = [];
  for (let i = 1; i <= spec.nodes; i++) {
    const subnet = subnetOfNode(i, spec.nodes, spec.subnets, spec.ipFamily);
    const name = `${spec.name}-node${i}`;
    const root = join(runDir, 'nodes', name);
    // A real node sees its own /etc, /opt and /var (overlays), /run and CNI directories: its
    // directories here are those as seen from the machine (e2e/realnode/node-view.ts).
    const dirs = spec.kubelet
      ? {
          root,
          cniBin: join(root, 'cni/bin'),
          cniConf: join(root, 'cni/net.d'),
          run: join(root, 'run'),
          state: join(root, 'fs/var.upper/lib'),
        }
      : {
          root,
          cniBin: join(root, 'opt/cni/bin'),
          cniConf: join(root, 'etc/cni/net.d'),
          run: join(root, 'run'),
          state: join(root, 'var/lib'),
        };
    nodes.push({
      index: i,
      name,
      netns: `${prefix}node${i}`,
      ip: hostOn(subnet, 10 + i),
      subnet: subnet.cidr,
      gateway: subnet.gateway,
      ...(hasIPv6(spec.ipFamily)
        ? { ip6: hostOn(subnet6Of(subnet), 10 + i), gateway6: subnet6Of(subnet).gateway }
        : {}),
      bridge: subnet.bridge,
      routerPort: `vn${i}`,
      iface: UNDERLAY_IFACE,
      dirs,
    });
  }
  return {
    name: spec.name,
    runDir,
    nsPrefix: prefix,
    ipFamily: spec.ipFamily,
    routerNetns: `${prefix}rt`,
    controlPlaneNetns: `${prefix}cp`,
    externalNetns: `${prefix}ext`,
    subnets: underlaySubnets(spec.ipFamily).slice(0, spec.subnets),
    controlPlane: { ip: controlPlaneIp, routerPort: 'vcp' },
    external: { ip: v4 ? EXTERNAL.ip : EXTERNAL6.ip, routerPort: 'vext' },
    apiServerURL: `https://${hostPort(controlPlaneIp, API_PORT)}`,
    nodes,
  };
}

/** All namespaces of the plan, router first (creation order; delete in reverse). */
export function planNamespaces(plan: ClusterPlan): string[] {
  return [plan.routerNetns, plan.controlPlaneNetns, plan.externalNetns, ...plan.nodes.map((n) => n.netns)];
}

/**
 * A name for a pod's network namespace on `node` (pure). It carries the cluster prefix, so
 * teardown deletes it with the node even when a test never ran CNI DEL.
 */
export function podNetnsName(node: Pick<NodePlan, 'netns'>, podId: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(podId)) {
    throw new Error(`podId ${JSON.stringify(podId)} must be 1-40 lowercase letters, digits or dashes`);
  }
  return `${node.netns}-${podId}`;
}
