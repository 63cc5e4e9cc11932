import type { Logger } from '../../common/log.js';
import { ensureGossipKeyUntilDone, type SecretApi } from './gossip-key.js';
import type { ControllerMetrics } from './metrics.js';
import type { NodeCidrController } from './node-cidr-controller.js';

export interface ChoreDeps {
  readonly nodeCidrs: NodeCidrController;
  readonly secrets: SecretApi;
  readonly namespace: string;
  readonly metrics: ControllerMetrics;
  readonly log: Logger;
}

/** What only the leader does, until `signal` (leadership) aborts. Never throws. */
export async function runLeaderChores(deps: ChoreDeps, signal: AbortSignal): Promise<void> {
  const { log, metrics } = deps;
  log.info({ op: 'chores' }, 'leader chores starting');
  await Promise.all([
    ensureGossipKeyUntilDone(deps.secrets, deps.namespace, { log, metrics }, signal),
    deps.nodeCidrs
      .run(signal)
      .catch((err: unknown) => log.error({ op: 'chores', err: String(err) }, 'node loop died')),
  ]);
  log.info({ op: 'chores' }, 'leader chores stopped');
}
