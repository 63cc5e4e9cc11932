import { WeftError } from '../../common/errors.js';

/** What to build: a control plane plus `nodes` node namespaces on one or two underlay subnets. */
export interface ClusterSpec {
  name: string;
  nodes: number;
  subnets: 1 | 2;
  allocateNodeCidrs: boolean;
  /**
   * Real nodes: every node runs containerd, kubelet and kube-proxy in its own filesystem view
   * (e2e/realnode), and the control plane gains kube-scheduler. Off: nodes are bare network
   * namespaces with harness-made Node objects.
   */
  kubelet: boolean;
  /**
   * Address families: 'ipv4' (default); 'dual' — underlay addresses of both families on both
   * subnets (and the external host), a dual-stack control plane (service and cluster CIDRs of
   * both families), Nodes with an InternalIP of each family; 'ipv6' — IPv6 only: underlay, control
   * plane (API server, etcd, service and cluster CIDRs) and Nodes' InternalIPs all IPv6.
   */
  ipFamily: IpFamilyMode;
  /** Parent of the run dir (default /tmp/weft-e2e); the run dir is `<runRoot>/<name>`. */
  runRoot?: string;
  /** Port on 127.0.0.1 in the root netns for the admin endpoint; 0 (default) picks a free one. */
  adminPort?: number;
  /** Directory with etcd, kube-apiserver, kube-controller-manager, kubectl (default: WEFT_K8S_BIN_DIR or build.sh). */
  binDir?: string;
}

export type IpFamilyMode = 'ipv4' | 'dual' | 'ipv6';
export const IP_FAMILY_MODES: readonly IpFamilyMode[] = ['ipv4', 'dual', 'ipv6'];

export type ResolvedClusterSpec = Required<Omit<ClusterSpec, 'binDir'>> & { binDir?: string };

export const DEFAULT_RUN_ROOT = '/tmp/weft-e2e';
export const MAX_NODES = 40;
const NAME_RE = /^[a-z][a-z0-9]{0,9}$/;

/** Every failure of the harness: `code` says which kind, the message names the field or step at fault. */
export class ClusterError extends WeftError {}

/** Validates a partial spec and fills in the defaults (name 'e2e', 3 nodes, 2 subnets, node IPAM on). */
export function parseClusterSpec(input: Partial<ClusterSpec>): ResolvedClusterSpec {
  const name = input.name ?? 'e2e';
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw new ClusterError(
      'EBADSPEC',
      `spec.name ${JSON.stringify(name)} must be 1-10 lowercase letters/digits starting with a letter (it prefixes namespace and Node names)`,
    );
  }
  const nodes = input.nodes ?? 3;
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_NODES) {
    throw new ClusterError(
      'EBADSPEC',
      `spec.nodes must be an integer in 1..${MAX_NODES}, got ${String(nodes)}`,
    );
  }
  const subnets = input.subnets ?? 2;
  if (subnets !== 1 && subnets !== 2) {
    throw new ClusterError('EBADSPEC', `spec.subnets must be 1 or 2, got ${String(subnets)}`);
  }
  const allocateNodeCidrs = input.allocateNodeCidrs ?? true;
  if (typeof allocateNodeCidrs !== 'boolean') {
    throw new ClusterError('EBADSPEC', `spec.allocateNodeCidrs must be a boolean`);
  }
  const kubelet = input.kubelet ?? false;
  if (typeof kubelet !== 'boolean') {
    throw new ClusterError('EBADSPEC', `spec.kubelet must be a boolean`);
  }
  const ipFamily = input.ipFamily ?? 'ipv4';
  if (!IP_FAMILY_MODES.includes(ipFamily)) {
    throw new ClusterError(
      'EBADSPEC',
      `spec.ipFamily must be one of ${IP_FAMILY_MODES.join(', ')}, got ${JSON.stringify(ipFamily)}`,
    );
  }
  const runRoot = input.runRoot ?? DEFAULT_RUN_ROOT;
  if (typeof runRoot !== 'string' || !runRoot.startsWith('/')) {
    throw new ClusterError(
      'EBADSPEC',
      `spec.runRoot must be an absolute path, got ${JSON.stringify(runRoot)}`,
    );
  }
  const adminPort = input.adminPort ?? 0;
  if (!Number.isInteger(adminPort) || adminPort < 0 || adminPort > 65535) {
    throw new ClusterError(
      'EBADSPEC',
      `spec.adminPort must be an integer in 0..65535, got ${String(adminPort)}`,
    );
  }
  const spec: ResolvedClusterSpec = {
    name,
    nodes,
    subnets,
    allocateNodeCidrs,
    kubelet,
    ipFamily,
    runRoot,
    adminPort,
  };
  if (input.binDir !== undefined) spec.binDir = input.binDir;
  return spec;
}
