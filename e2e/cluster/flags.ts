import { join } from 'node:path';
import {
  API_PORT,
  CLUSTER_CIDR,
  CLUSTER_CIDR6,
  type ClusterPlan,
  NODE_CIDR_MASK,
  NODE_CIDR_MASK6,
  SERVICE_CIDR,
  SERVICE_CIDR6,
} from './plan.js';
import type { IpFamilyMode } from './spec.js';

/** `--service-cluster-ip-range`: IPv4 first, as kubeadm writes a dual-stack one. */
export function serviceCidrs(ipFamily: IpFamilyMode | undefined): string {
  return ipFamily === 'dual' ? `${SERVICE_CIDR},${SERVICE_CIDR6}` : SERVICE_CIDR;
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

export function etcdArgs(files: ControlPlaneFiles): string[] {
  return [
    '--name=default',
    `--data-dir=${files.etcdDataDir}`,
    '--listen-client-urls=http://127.0.0.1:2379',
    '--advertise-client-urls=http://127.0.0.1:2379',
    '--listen-peer-urls=http://127.0.0.1:2380',
    '--initial-advertise-peer-urls=http://127.0.0.1:2380',
    '--initial-cluster=default=http://127.0.0.1:2380',
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
    '--etcd-servers=http://127.0.0.1:2379',
    `--advertise-address=${plan.controlPlane.ip}`,
    '--bind-address=0.0.0.0',
    `--secure-port=${API_PORT}`,
    `--cert-dir=${files.pkiDir}`,
    `--tls-cert-file=${files.servingCert}`,
    `--tls-private-key-file=${files.servingKey}`,
    `--client-ca-file=${files.caCert}`,
    `--service-cluster-ip-range=${serviceCidrs(plan.ipFamily)}`,
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
    // Dual-stack: one CIDR per family, and the per-family mask flags (the single one is refused).
    ...(ipFamily === 'dual'
      ? [
          `--cluster-cidr=${CLUSTER_CIDR},${CLUSTER_CIDR6}`,
          `--node-cidr-mask-size-ipv4=${NODE_CIDR_MASK}`,
          `--node-cidr-mask-size-ipv6=${NODE_CIDR_MASK6}`,
        ]
      : [`--cluster-cidr=${CLUSTER_CIDR}`, `--node-cidr-mask-size=${NODE_CIDR_MASK}`]),
    `--service-cluster-ip-range=${serviceCidrs(ipFamily)}`,
    '--use-service-account-credentials=false',
    `--root-ca-file=${files.caCert}`,
    '--secure-port=0', // no health endpoint to serve: the harness watches the process and node podCIDRs
  ];
}

export function schedulerArgs(files: ControlPlaneFiles): string[] {
  return [
    `--kubeconfig=${files.schedulerKubeconfig}`,
    `--authentication-kubeconfig=${files.schedulerKubeconfig}`,
    `--authorization-kubeconfig=${files.schedulerKubeconfig}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    '--secure-port=10259',
  ];
}
