import { backoffDelay, sleep } from '../../../common/backoff.js';
import type { Logger } from '../../../common/log.js';
import type { NodeApi } from './node-api.js';

/** The strategic-merge patch that sets NetworkUnavailable=False (conditions merge by type). */
export function desiredNetworkCondition(now: Date): object {
  const time = now.toISOString();
  return {
    status: {
      conditions: [
        {
          type: 'NetworkUnavailable',
          status: 'False',
          reason: 'WeftIsUp',
          message: 'Weft agent has programmed the pod network on this node',
          lastTransitionTime: time,
          lastHeartbeatTime: time,
        },
      ],
    },
  };
}

/**
 * Patches this node's NetworkUnavailable condition to False via nodes/status,
 * retrying with capped, jittered backoff until it succeeds or the signal aborts.
 */
export async function applyNetworkAvailable(opts: {
  api: Pick<NodeApi, 'patchNodeStatus'>;
  nodeName: string;
  log: Logger;
  signal: AbortSignal;
  backoff?: { baseMs: number; capMs: number };
}): Promise<boolean> {
  const { api, nodeName, log, signal } = opts;
  const { baseMs, capMs } = opts.backoff ?? { baseMs: 1000, capMs: 30_000 };
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      await api.patchNodeStatus(nodeName, desiredNetworkCondition(new Date()), signal);
      log.info({ node: nodeName, op: 'patch' }, 'node condition NetworkUnavailable=False set');
      return true;
    } catch (err: unknown) {
      if (signal.aborted) break;
      const delayMs = backoffDelay(attempt, baseMs, capMs);
      log.warn({ err, node: nodeName, op: 'patch', delayMs }, 'cannot set node network condition; retrying');
      await sleep(delayMs, signal).catch(() => undefined);
    }
  }
  return false;
}
