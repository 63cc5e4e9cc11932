import type { SelfNode } from '../datapath/types.js';

/** Whether this node's pod network is up, and if not, what it waits for. */
export interface Readiness {
  readonly ready: boolean;
  /** Why the node is not ready; null when it is. */
  readonly reason: string | null;
}

export interface ReadinessInputs {
  /** This node in the cluster view (API, cache or gossip); undefined until known. */
  readonly self: SelfNode | undefined;
  /** When the first datapath sync succeeded; undefined before. */
  readonly firstSuccessAt: number | undefined;
  /** Datapath syncs that failed in a row. */
  readonly failures: number;
}

/**
 * Ready once a datapath sync has succeeded (routes, bridge and nftables are in
 * place; the CNI server serves ADD), as `/readyz` reports; pure.
 */
export function computeReadiness(i: ReadinessInputs): Readiness {
  if (i.firstSuccessAt !== undefined) return { ready: true, reason: null };
  const reason = !i.self
    ? 'this node is not in the cluster view yet (no Node object from the API or the cache)'
    : i.self.podCIDRs.length === 0
      ? 'this node has no podCIDR yet'
      : i.failures > 0
        ? `the datapath sync failed ${i.failures} time(s) in a row (see the agent log)`
        : 'no datapath sync has finished yet';
  return { ready: false, reason };
}

/** The readiness of a running agent, from its reconcile loop and cluster view. */
export function readinessOf(
  loop: { readonly firstSuccessAt: number | undefined; readonly consecutiveFailures: number },
  store: { view(): { readonly self: SelfNode | undefined } },
): Readiness {
  return computeReadiness({
    self: store.view().self,
    firstSuccessAt: loop.firstSuccessAt,
    failures: loop.consecutiveFailures,
  });
}
