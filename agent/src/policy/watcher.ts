import type { Logger } from '../../../common/log.js';
import type { KubeClient } from '../kube/api-client.js';
import { KubeResourceApi, type ListWatchApi, runListWatch } from '../kube/list-watch.js';
import { objectRef, PolicyParseError, parseNamespace, parseNetworkPolicy, parsePod } from './parse.js';
import type { PolicyKind, PolicyStore } from './store.js';

/** The collections the agent lists and watches for NetworkPolicy (manifests/01-agent-rbac.yaml grants exactly these). */
export const POLICY_PATHS: Readonly<Record<PolicyKind, string>> = {
  pods: '/api/v1/pods',
  namespaces: '/api/v1/namespaces',
  networkpolicies: '/apis/networking.k8s.io/v1/networkpolicies',
};

const PARSERS = { pods: parsePod, namespaces: parseNamespace, networkpolicies: parseNetworkPolicy } as const;

type Raw = { readonly metadata?: { readonly resourceVersion?: string } };

export interface PolicyWatcherOptions {
  readonly store: PolicyStore;
  readonly log: Logger;
  /** One list/watch API per kind; default the API server's collections through `client`. */
  readonly apis?: Readonly<Record<PolicyKind, ListWatchApi<Raw>>>;
  readonly client?: KubeClient;
  readonly backoff?: { readonly baseMs: number; readonly capMs: number };
}

/**
 * Lists then watches Pods, Namespaces and NetworkPolicies (each restarting on its
 * own with backoff), keeping only what enforcement needs. An object that cannot
 * be parsed is logged once per distinct problem, with its name and field, and
 * left out (a policy left out enforces nothing; the others are unaffected).
 */
export async function runPolicyWatchers(opts: PolicyWatcherOptions, signal: AbortSignal): Promise<void> {
  const skipped = new Map<string, string>();
  const convert = (kind: PolicyKind, obj: Raw) => {
    const ref = `${kind}/${objectRef(obj)}`;
    try {
      const item = PARSERS[kind](obj);
      skipped.delete(ref);
      return item;
    } catch (err: unknown) {
      if (!(err instanceof PolicyParseError)) throw err;
      if (skipped.get(ref) !== err.message) {
        skipped.set(ref, err.message);
        opts.log.warn(
          { op: 'convert', kind, object: err.object, field: err.field, err: err.message },
          'skipping invalid object',
        );
      }
      return undefined;
    }
  };
  const run = (kind: PolicyKind) => {
    const api = opts.apis?.[kind] ?? new KubeResourceApi<Raw>(opts.client as KubeClient, POLICY_PATHS[kind]);
    return runListWatch<Raw>(
      {
        kind,
        api,
        startList: () => {
          const items = new Map();
          return {
            add: (obj) => {
              const item = convert(kind, obj);
              if (item) items.set(objectRef(obj), item);
            },
            done: (resourceVersion, attempt) => {
              opts.store.replaceAll(kind, items);
              opts.log.info(
                { op: 'list', kind, objects: items.size, attempt, resourceVersion },
                'policy list synced',
              );
            },
          };
        },
        onEvent: (type, obj) => {
          const key = objectRef(obj);
          const item = type === 'DELETED' ? undefined : convert(kind, obj);
          if (item) opts.store.upsert(kind, key, item as never);
          else opts.store.remove(kind, key);
        },
        log: opts.log,
        ...(opts.backoff ? { backoff: opts.backoff } : {}),
      },
      signal,
    );
  };
  await Promise.all([run('pods'), run('namespaces'), run('networkpolicies')]);
}
