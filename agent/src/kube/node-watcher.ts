import type { V1Node } from '@kubernetes/client-node';
import { backoffDelay, sleep } from '../../../common/backoff.js';
import type { Logger } from '../../../common/log.js';
import type { PeerNode } from '../datapath/types.js';
import type { PeerStore } from '../peers/peer-store.js';
import { NodeParseError, parseKubeNode } from './node-convert.js';

/** The part of a client-node Node informer the watcher uses. */
export interface NodeInformer {
  on(verb: 'add' | 'update' | 'delete', cb: (node: V1Node) => void): void;
  on(verb: 'error', cb: (err?: unknown) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  list(): V1Node[];
}

export interface NodeWatcherOptions {
  readonly informer: NodeInformer;
  readonly store: PeerStore;
  readonly log: Logger;
  readonly backoff?: { readonly baseMs: number; readonly capMs: number };
  readonly random?: () => number;
}

/**
 * Feeds the PeerStore from a Node informer. client-node informers stop for good
 * on any error but 410, so every error ends a round and the watcher starts the
 * informer again after a capped, jittered backoff. After each successful (re)list
 * the whole store is replaced from the informer's cache, which drops nodes that
 * only the disk cache knew and marks the view as API-sourced.
 */
export class NodeWatcher {
  readonly #opts: NodeWatcherOptions;
  readonly #skipped = new Map<string, string>();
  #roundFailed: ((err: unknown) => void) | undefined;
  #synced = false;

  constructor(opts: NodeWatcherOptions) {
    this.#opts = opts;
    const { informer, store } = opts;
    informer.on('add', (node) => this.#apply(node));
    informer.on('update', (node) => this.#apply(node));
    informer.on('delete', (node) => {
      const name = node.metadata?.name;
      if (name) {
        this.#skipped.delete(name);
        store.remove(name);
      }
    });
    informer.on('error', (err) => this.#roundFailed?.(err));
  }

  /** True once a complete Node list has been received. */
  get synced(): boolean {
    return this.#synced;
  }

  async run(signal: AbortSignal): Promise<void> {
    const { informer, log } = this.#opts;
    const { baseMs, capMs } = this.#opts.backoff ?? { baseMs: 1000, capMs: 30_000 };
    let attempt = 0;
    while (!signal.aborted) {
      const roundStart = Date.now();
      let errored = false;
      let error: unknown;
      const failed = new Promise<void>((resolve) => {
        this.#roundFailed = (err: unknown) => {
          errored = true;
          error = err;
          resolve();
        };
      });
      try {
        await informer.start();
      } catch (err: unknown) {
        this.#roundFailed?.(err);
      }
      if (!errored && !signal.aborted) {
        this.#replaceFromInformer();
        log.info({ op: 'list', nodes: informer.list().length, attempt }, 'node list synced');
      }
      const aborted = new Promise<void>((resolve) =>
        signal.addEventListener('abort', () => resolve(), { once: true }),
      );
      await Promise.race([failed, aborted]);
      this.#roundFailed = undefined;
      if (signal.aborted) break;
      if (Date.now() - roundStart > capMs) attempt = 0;
      const delayMs = backoffDelay(attempt++, baseMs, capMs, this.#opts.random);
      log.warn({ err: error, op: 'watch', attempt, delayMs }, 'node watch failed; restarting');
      await informer.stop().catch(() => undefined);
      await sleep(delayMs, signal).catch(() => undefined);
    }
    await informer.stop().catch(() => undefined);
  }

  #replaceFromInformer(): void {
    const nodes: PeerNode[] = [];
    for (const obj of this.#opts.informer.list()) {
      const node = this.#convert(obj);
      if (node) nodes.push(node);
    }
    this.#opts.store.replaceAll(nodes, 'api');
    this.#synced = true;
  }

  #apply(obj: V1Node): void {
    const node = this.#convert(obj);
    const name = obj.metadata?.name;
    if (node) this.#opts.store.upsert(node);
    else if (name) this.#opts.store.remove(name);
  }

  /** Converts one Node; a bad one is logged once per distinct problem and skipped. */
  #convert(obj: V1Node): PeerNode | undefined {
    try {
      const node = parseKubeNode(obj);
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
