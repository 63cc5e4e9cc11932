/**
 * The local-cluster harness: a real Kubernetes control plane (etcd, kube-apiserver,
 * kube-controller-manager) and nodes as network namespaces, for e2e tests and the demo.
 * See README.md in this folder for the topology and the rules of use.
 */
export type { ApiEndpoint } from './api-client.js';
export type { Cluster, LocalCluster } from './cluster.js';
export { COMPONENTS, type ComponentName } from './control-plane.js';
export type { CommandResult } from './exec.js';
export type { ClusterNode } from './nodes.js';
export {
  API_PORT,
  CLUSTER_CIDR,
  CONTROL_PLANE_IP,
  EXTERNAL,
  NODE_CIDR_MASK,
  netnsPrefix,
  podNetnsName,
  SERVICE_CIDR,
  SUBNET_A,
  SUBNET_B,
} from './plan.js';
export { resolveBinDir } from './prereq.js';
export type { NodeProcess, ProcessExit } from './processes.js';
export { ClusterError, type ClusterSpec, DEFAULT_RUN_ROOT } from './spec.js';
export { attachCluster, startCluster } from './start.js';
export { destroyCluster } from './teardown.js';
