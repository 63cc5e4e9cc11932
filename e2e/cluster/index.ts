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
  CLUSTER_CIDR6,
  CONTROL_PLANE_IP,
  CONTROL_PLANE_IP6,
  EXTERNAL,
  EXTERNAL6,
  NODE_CIDR_MASK,
  NODE_CIDR_MASK6,
  netnsPrefix,
  podNetnsName,
  SERVICE_CIDR,
  SERVICE_CIDR6,
  SUBNET_A,
  SUBNET_A6,
  SUBNET_B,
  SUBNET_B6,
} from './plan.js';
export { resolveBinDir } from './prereq.js';
export type { NodeProcess, ProcessExit } from './processes.js';
export { ClusterError, type ClusterSpec, DEFAULT_RUN_ROOT, type IpFamilyMode } from './spec.js';
export { attachCluster, startCluster } from './start.js';
export { destroyCluster } from './teardown.js';
