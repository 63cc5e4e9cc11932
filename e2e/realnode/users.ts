import type { TokenUser } from '../cluster/pki.js';
import type { ClusterPlan } from '../cluster/plan.js';

export const SCHEDULER_USER = 'system:kube-scheduler';
export const KUBE_PROXY_USER = 'system:kube-proxy';

export function kubeletUser(nodeName: string): string {
  return `system:node:${nodeName}`;
}

/**
 * The identities of a real-node cluster's components (pure): one kubelet per node in
 * system:nodes (so the Node authorizer scopes it to its own node), kube-proxy and
 * kube-scheduler as the users Kubernetes' bootstrap RBAC already grants.
 */
export function realNodeTokenUsers(plan: ClusterPlan): TokenUser[] {
  return [
    ...plan.nodes.map((n) => ({ user: kubeletUser(n.name), groups: ['system:nodes'] })),
    { user: KUBE_PROXY_USER, groups: [] },
    { user: SCHEDULER_USER, groups: [] },
  ];
}
