import { join } from 'node:path';
import { API_PORT, CLUSTER_CIDR, type ClusterPlan, NODE_CIDR_MASK, SERVICE_CIDR } from './plan.js';

/** Where a cluster keeps its control-plane files, all under the run dir (pure). */
export interface ControlPlaneFiles {
  pkiDir: string;
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  saKey: string;
  saPub: string;
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

export function apiServerArgs(plan: ClusterPlan, files: ControlPlaneFiles): string[] {
  return [
    '--etcd-servers=http://127.0.0.1:2379',
    `--advertise-address=${plan.controlPlane.ip}`,
    '--bind-address=0.0.0.0',
    `--secure-port=${API_PORT}`,
    `--cert-dir=${files.pkiDir}`,
    `--tls-cert-file=${files.servingCert}`,
    `--tls-private-key-file=${files.servingKey}`,
    `--client-ca-file=${files.caCert}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
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

export function controllerManagerArgs(files: ControlPlaneFiles, allocateNodeCidrs: boolean): string[] {
  return [
    `--kubeconfig=${files.controllerManagerKubeconfig}`,
    '--leader-elect=false',
    `--controllers=${desiredControllers(allocateNodeCidrs).join(',')}`,
    `--allocate-node-cidrs=${String(allocateNodeCidrs)}`,
    `--cluster-cidr=${CLUSTER_CIDR}`,
    `--node-cidr-mask-size=${NODE_CIDR_MASK}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    '--use-service-account-credentials=false',
    `--root-ca-file=${files.caCert}`,
    '--secure-port=0', // no health endpoint to serve: the harness watches the process and node podCIDRs
  ];
}
