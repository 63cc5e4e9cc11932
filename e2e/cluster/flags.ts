import { join } from 'node:path';
import {
  API_PORT,
  type ClusterPlan,
  clusterCidrs,
  hostPort,
  loopbackIp,
  NODE_CIDR_MASK,
  NODE_CIDR_MASK6,
  serviceCidrs,
} from './plan.js';
import type { IpFamilyMode } from './spec.js';

/** `https://<control-plane loopback>:6443`: how components inside the control-plane namespace reach the API server. */
export function loopbackApiServerURL(ipFamily: IpFamilyMode | undefined): string {
  return `https://${hostPort(loopbackIp(ipFamily), API_PORT)}`;
}

/** Where a cluster keeps its control-plane files, all under the run dir (pure). */
export interface ControlPlaneFiles {
  pkiDir: string;
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  saKey: string;
  saPub: string;
  kubeletClientCert: string;
  kubeletClientKey: string;
  schedulerKubeconfig: string;
  tokenFile: string;
  etcdDataDir: string;
  adminKubeconfig: string; // root netns, via the local forwarder
  adminKubeconfigInNode: string; // inside any node netns, straight to the API server
  controllerManagerKubeconfig: string;
  cpSocket: string; // unix socket of the forwarder inside the control-plane netns
  adminPortFile: string;
  logDir: string;
  stateFile: string;
}

export function computeControlPlaneFiles(runDir: string): ControlPlaneFiles {
  const pki = join(runDir, 'pki');
  return {
    pkiDir: pki,
    caCert: join(pki, 'ca.crt'),
    caKey: join(pki, 'ca.key'),
    servingCert: join(pki, 'apiserver.crt'),
    servingKey: join(pki, 'apiserver.key'),
    saKey: join(pki, 'sa.key'),
    saPub: join(pki, 'sa.pub'),
    kubeletClientCert: join(pki, 'apiserver-kubelet-client.crt'),
    kubeletClientKey: join(pki, 'apiserver-kubelet-client.key'),
    schedulerKubeconfig: join(pki, 'scheduler.kubeconfig'),
    tokenFile: join(pki, 'tokens.csv'),
    etcdDataDir: join(runDir, 'etcd'),
    adminKubeconfig: join(runDir, 'admin.kubeconfig'),
    adminKubeconfigInNode: join(runDir, 'admin-in-node.kubeconfig'),
    controllerManagerKubeconfig: join(pki, 'controller-manager.kubeconfig'),
    cpSocket: join(runDir, 'apiserver.sock'),
    adminPortFile: join(runDir, 'admin.port'),
    logDir: join(runDir, 'logs'),
    stateFile: join(runDir, 'state.json'),
  };
}

export const SA_ISSUER = 'https://kubernetes.default.svc.cluster.local';

/** Controllers run by kube-controller-manager: node IPAM (optional) plus what namespaces and SAs need. */
export function desiredControllers(allocateNodeCidrs: boolean): string[] {
  const base = [
    'serviceaccount-controller',
    'namespace-controller',
    'root-ca-certificate-publisher-controller',
  ];
  return allocateNodeCidrs ? [...base, 'node-ipam-controller'] : base;
}

/** etcd's client URL on the control plane's loopback (IPv6 `::1` in an IPv6-only cluster). */
export function etcdClientURL(ipFamily: IpFamilyMode | undefined): string {
  return `http://${hostPort(loopbackIp(ipFamily), 2379)}`;
}

export function etcdArgs(files: ControlPlaneFiles, ipFamily?: IpFamilyMode): string[] {
  const client = etcdClientURL(ipFamily);
  const peer = `http://${hostPort(loopbackIp(ipFamily), 2380)}`;
  return [
    '--name=default',
    `--data-dir=${files.etcdDataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=default=${peer}`,
    '--unsafe-no-fsync=true',
    '--log-level=warn',
  ];
}

export function apiServerArgs(plan: ClusterPlan, files: ControlPlaneFiles, kubelet = false): string[] {
  const toKubelets = kubelet
    ? [
        `--kubelet-client-certificate=${files.kubeletClientCert}`,
        `--kubelet-client-key=${files.kubeletClientKey}`,
        '--kubelet-preferred-address-types=InternalIP',
      ]
    : [];
  return [
    ...toKubelets,
    `--etcd-servers=${etcdClientURL(plan.ipFamily)}`,
    `--advertise-address=${plan.controlPlane.ip}`,
    `--bind-address=${plan.ipFamily === 'ipv6' ? '::' : '0.0.0.0'}`,
    `--secure-port=${API_PORT}`,
    `--cert-dir=${files.pkiDir}`,
    `--tls-cert-file=${files.servingCert}`,
    `--tls-private-key-file=${files.servingKey}`,
    `--client-ca-file=${files.caCert}`,
    `--service-cluster-ip-range=${serviceCidrs(plan.ipFamily).join(',')}`,
    `--service-account-issuer=${SA_ISSUER}`,
    `--service-account-key-file=${files.saPub}`,
    `--service-account-signing-key-file=${files.saKey}`,
    `--token-auth-file=${files.tokenFile}`,
    '--authorization-mode=Node,RBAC',
    '--anonymous-auth=false',
    '--allow-privileged=true',
    '--profiling=false',
  ];
}

export function controllerManagerArgs(
  files: ControlPlaneFiles,
  allocateNodeCidrs: boolean,
  kubelet = false,
  ipFamily: IpFamilyMode = 'ipv4',
): string[] {
  // With kubelets, every default controller runs (Deployments, DaemonSets, EndpointSlices,
  // node lifecycle, garbage collection …), as kubeadm runs them.
  const controllers = kubelet ? ['*'] : desiredControllers(allocateNodeCidrs);
  return [
    `--kubeconfig=${files.controllerManagerKubeconfig}`,
    '--leader-elect=false',
    `--controllers=${controllers.join(',')}`,
    ...(kubelet ? [`--service-account-private-key-file=${files.saKey}`] : []),
    `--allocate-node-cidrs=${String(allocateNodeCidrs)}`,
    `--cluster-cidr=${clusterCidrs(ipFamily).join(',')}`,
    // Dual-stack: the per-family mask flags (the single one is refused); single-stack: the
    // single one, /24 for IPv4, /64 for IPv6.
    ...(ipFamily === 'dual'
      ? [`--node-cidr-mask-size-ipv4=${NODE_CIDR_MASK}`, `--node-cidr-mask-size-ipv6=${NODE_CIDR_MASK6}`]
      : [`--node-cidr-mask-size=${ipFamily === 'ipv6' ? NODE_CIDR_MASK6 : NODE_CIDR_MASK}`]),
    `--service-cluster-ip-range=${serviceCidrs(ipFamily).join(',')}`,
    '--use-service-account-credentials=false',
    `--root-ca-file=${files.caCert}`,
    '--secure-port=0', // no health endpoint to serve: the harness watches the process and node podCIDRs
  ];
}

export function schedulerArgs(files: ControlPlaneFiles, ipFamily?: IpFamilyMode): string[] {
  return [
    `--kubeconfig=${files.schedulerKubeconfig}`,
    `--authentication-kubeconfig=${files.schedulerKubeconfig}`,
    `--authorization-kubeconfig=${files.schedulerKubeconfig}`,
    '--leader-elect=false',
    `--bind-address=${loopbackIp(ipFamily)}`,
    '--secure-port=10259',
  ];
}
