/**
 * kubelet's configuration for a node of the local cluster (pure). Every node shares the
 * machine, so each gets its own cgroup root; image garbage collection is off because
 * images are imported (nothing can be pulled again); eviction thresholds are low because
 * every node sees the whole machine's disk and memory.
 */
import type { IpFamilyMode } from '../cluster/spec.js';

export const CLUSTER_DNS_IP = '10.96.0.10';
/** The cluster DNS Service's ClusterIP in an IPv6-only cluster (Service CIDR fd00:10:96::/112). */
export const CLUSTER_DNS_IP6 = 'fd00:10:96::a';

/** The ClusterIP of kube-dns: from the primary Service CIDR (IPv6 only in an IPv6-only cluster). */
export function clusterDnsIp(ipFamily: IpFamilyMode | undefined): string {
  return ipFamily === 'ipv6' ? CLUSTER_DNS_IP6 : CLUSTER_DNS_IP;
}
export const CLUSTER_DOMAIN = 'cluster.local';
export const KUBELET_PORT = 10250;

export interface KubeletNode {
  name: string;
  ip: string;
  /** cgroup root of this node's pods, unique on the machine, e.g. /weft-e2e-node1. */
  cgroupRoot: string;
  /** CA that signed the API server's kubelet client certificate (x509 authentication). */
  clientCaFile: string;
  resolvConf: string;
  maxPods: number;
  /** kube-dns's ClusterIP (default CLUSTER_DNS_IP). */
  clusterDns?: string;
}

export function kubeletCgroupRoot(clusterName: string, nodeIndex: number): string {
  return `/weft-${clusterName}-node${nodeIndex}`;
}

export function renderKubeletConfig(n: KubeletNode): string {
  const config = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: n.ip,
    port: KUBELET_PORT,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: n.clientCaFile },
    },
    authorization: { mode: 'Webhook' },
    cgroupDriver: 'cgroupfs',
    cgroupRoot: n.cgroupRoot,
    cgroupsPerQOS: true,
    clusterDNS: [n.clusterDns ?? CLUSTER_DNS_IP],
    clusterDomain: CLUSTER_DOMAIN,
    containerRuntimeEndpoint: 'unix:///run/containerd/containerd.sock',
    failSwapOn: false,
    // Never write the machine-wide kernel tunables: the harness sets the three kubelet
    // checks (and restores them at teardown); kubelet only verifies them.
    protectKernelDefaults: true,
    resolvConf: n.resolvConf,
    maxPods: n.maxPods,
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: {
      'memory.available': '100Mi',
      'nodefs.available': '1%',
      'nodefs.inodesFree': '1%',
      'imagefs.available': '1%',
    },
    serializeImagePulls: false,
    rotateCertificates: false,
    serverTLSBootstrap: false,
    nodeStatusReportFrequency: '10s',
    nodeStatusUpdateFrequency: '5s',
    syncFrequency: '10s',
    fileCheckFrequency: '10s',
    // Local test bed: keep pod shutdown short so teardown and restarts stay quick.
    shutdownGracePeriod: '0s',
    enableServer: true,
    enableDebuggingHandlers: true,
    localStorageCapacityIsolation: true,
    failCgroupV1: false,
    // No CAP_SYS_RESOURCE for root on these machines: a negative oom_score_adj is refused.
    oomScoreAdj: 0,
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

export function kubeletArgs(opts: {
  config: string;
  kubeconfig: string;
  nodeName: string;
  nodeIp: string;
  certDir: string;
}): string[] {
  return [
    `--config=${opts.config}`,
    `--kubeconfig=${opts.kubeconfig}`,
    `--hostname-override=${opts.nodeName}`,
    `--node-ip=${opts.nodeIp}`,
    `--cert-dir=${opts.certDir}`,
    '--v=1',
  ];
}
