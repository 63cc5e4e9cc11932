import { randomBytes as nodeRandomBytes } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import { backoffDelay, sleep } from '../../common/backoff.js';
import type { Logger } from '../../common/log.js';
import { GOSSIP_KEY_SECRET } from '../../common/names.js';
import { apiErrorSummary, isConflict } from './api-errors.js';
import type { ControllerMetrics } from './metrics.js';

export { GOSSIP_KEY_SECRET };
export const GOSSIP_KEY_BYTES = 32;

/** The Secret API, narrowed to the two verbs the controller's Role grants. */
export interface SecretApi {
  /** undefined when the Secret does not exist */
  read(name: string): Promise<V1Secret | undefined>;
  /** fails with 409 when it already exists */
  create(secret: V1Secret): Promise<V1Secret>;
}

export type GossipKeyOutcome = 'created' | 'exists' | 'lost-race';

/**
 * Creates the gossip key Secret (data.key = 32 random bytes) when it is absent. An
 * existing Secret is never changed, not even a malformed one (that is reported): the
 * key is the operator's to rotate, by deleting the Secret.
 */
export async function ensureGossipKey(
  api: SecretApi,
  namespace: string,
  log: Logger,
  randomBytes: (n: number) => Buffer = nodeRandomBytes,
): Promise<GossipKeyOutcome> {
  const existing = await api.read(GOSSIP_KEY_SECRET);
  if (existing !== undefined) {
    const problem = describeKeyProblem(existing);
    if (problem !== undefined)
      log.error({ op: 'gossip_key', problem }, 'gossip key Secret is malformed; left as is');
    return 'exists';
  }
  const secret: V1Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: GOSSIP_KEY_SECRET,
      namespace,
      labels: { 'app.kubernetes.io/part-of': 'weft', 'app.kubernetes.io/managed-by': 'weft-controller' },
    },
    type: 'Opaque',
    data: { key: randomBytes(GOSSIP_KEY_BYTES).toString('base64') },
  };
  try {
    await api.create(secret);
  } catch (err: unknown) {
    if (isConflict(err)) return 'lost-race'; // another replica created it between our read and create
    throw err;
  }
  log.info({ op: 'gossip_key', namespace }, 'gossip key Secret created');
  return 'created';
}

/** Why an existing key Secret cannot be used, or undefined when it is fine. */
export function describeKeyProblem(secret: V1Secret): string | undefined {
  const encoded = secret.data?.key;
  if (encoded === undefined) return 'data.key is missing';
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length !== GOSSIP_KEY_BYTES)
    return `data.key is ${bytes.length} bytes, expected ${GOSSIP_KEY_BYTES}`;
  return undefined;
}

/** Retries ensureGossipKey with capped, jittered backoff until it succeeds or `signal` aborts. */
export async function ensureGossipKeyUntilDone(
  api: SecretApi,
  namespace: string,
  deps: { log: Logger; metrics: ControllerMetrics; baseMs?: number; capMs?: number },
  signal: AbortSignal,
): Promise<GossipKeyOutcome | undefined> {
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      return await ensureGossipKey(api, namespace, deps.log);
    } catch (err: unknown) {
      deps.metrics.errors.inc({ op: 'gossip_key' });
      deps.log.warn({ op: 'gossip_key', err: apiErrorSummary(err) }, 'cannot ensure the gossip key Secret');
    }
    await sleep(backoffDelay(attempt, deps.baseMs ?? 1000, deps.capMs ?? 30_000), signal).catch(
      () => undefined,
    );
  }
  return undefined;
}
