import type { IpFamily } from '../../../common/ip.js';
import type { Logger } from '../../../common/log.js';
import type { PeerNode } from '../datapath/types.js';
import type { PeerStore } from '../peers/peer-store.js';
import { runListWatch } from './list-watch.js';
import type { NodeApi } from './node-api.js';
import { type KubeNode, NodeParseError, parseKubeNode } from './node-convert.js';

export interface NodeWatcherOptions {
  readonly api: NodeApi;
  readonly store: PeerStore;
  readonly log: Logger;
  /** The cluster's underlay family (net-conf underlayFamily); default 4. */
  readonly underlayFamily?: IpFamily;
  readonly backoff?: { readonly baseMs: number; readonly capMs: number };
  /** Nodes per list page (default 500). */
  readonly pageSize?: number;
  /** Server-side watch timeout, randomised ×[1, 2) per watch (default 300 s). */
  readonly watchTimeoutSeconds?: number;
  readonly random?: () => number;
}

/**
 * Feeds the PeerStore from the API server through runListWatch: a paginated list
 * of all Nodes (which replaces the whole store, dropping nodes only the disk
 * cache knew, and marks the view API-sourced), then the watch. Only {name,
 * underlayIP, underlayIP6, podCIDRs} of each Node is kept (parseKubeNode).
 */
export class NodeWatcher {
  readonly #opts: NodeWatcherOptions;
  readonly #skipped = new Map<string, string>();
  readonly #random: () => number;
  #synced = false;

  constructor(opts: NodeWatcherOptions) {
    this.#opts = opts;
    this.#random = opts.random ?? Math.random;
  }

  /** True once a complete Node list has been received. */
  get synced(): boolean {
    return this.#synced;
  }

  run(signal: AbortSignal): Promise<void> {
    const { api, store, log } = this.#opts;
    return runListWatch<KubeNode>(
      {
        kind: 'node',
        api: { list: (o) => api.listNodes(o), watch: (o) => api.watchNodes(o) },
        startList: () => {
          const nodes: PeerNode[] = [];
          let total = 0;
          return {
            add: (obj) => {
              total++;
              const node = this.#convert(obj);
              if (node) nodes.push(node);
            },
            done: (resourceVersion, attempt) => {
              store.replaceAll(nodes, 'api');
              this.#synced = true;
              log.info({ op: 'list', nodes: total, attempt, resourceVersion }, 'node list synced');
            },
          };
        },
        onEvent: (type, obj) => (type === 'DELETED' ? this.#remove(obj) : this.#apply(obj)),
        log,
        ...(this.#opts.backoff ? { backoff: this.#opts.backoff } : {}),
        ...(this.#opts.pageSize ? { pageSize: this.#opts.pageSize } : {}),
        ...(this.#opts.watchTimeoutSeconds ? { watchTimeoutSeconds: this.#opts.watchTimeoutSeconds } : {}),
        random: this.#random,
      },
      signal,
    );
  }

  #remove(obj: KubeNode): void {
    const name = obj.metadata?.name;
    if (!name) return;
    this.#skipped.delete(name);
    if (this.#opts.store.remove(name)) this.#logChange(name, 'remove');
  }

  #apply(obj: KubeNode): void {
    const node = this.#convert(obj);
    const name = obj.metadata?.name;
    if (node) {
      if (this.#opts.store.upsert(node)) this.#logChange(node.name, 'upsert');
    } else if (name && this.#opts.store.remove(name)) this.#logChange(name, 'remove');
  }

  /** One line per effective change; its timestamp marks the event's arrival for latency figures. */
  #logChange(node: string, op: 'upsert' | 'remove'): void {
    this.#opts.log.info({ node, op }, 'node changed');
  }

  /** Converts one Node; a bad one is logged once per distinct problem and skipped. */
  #convert(obj: KubeNode): PeerNode | undefined {
    try {
      const node = parseKubeNode(obj, this.#opts.underlayFamily);
      this.#skipped.delete(node.name);
      return node;
    } catch (err: unknown) {
      if (!(err instanceof NodeParseError)) throw err;
      const key = `${err.field}=${JSON.stringify(err.value)}`;
      if (this.#skipped.get(err.node) !== key) {
        this.#skipped.set(err.node, key);
        this.#opts.log.warn(
          { node: err.node, field: err.field, value: err.value, op: 'convert' },
          'skipping node with invalid field',
        );
      }
      return undefined;
    }
  }
}
