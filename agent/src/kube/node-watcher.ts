import { backoffDelay, sleep } from '../../../common/backoff.js';
import { WeftError } from '../../../common/errors.js';
import type { Logger } from '../../../common/log.js';
import type { PeerNode } from '../datapath/types.js';
import type { PeerStore } from '../peers/peer-store.js';
import { isGone } from './api-client.js';
import type { NodeApi } from './node-api.js';
import { type KubeNode, NodeParseError, parseKubeNode } from './node-convert.js';

export interface NodeWatcherOptions {
  readonly api: NodeApi;
  readonly store: PeerStore;
  readonly log: Logger;
  readonly backoff?: { readonly baseMs: number; readonly capMs: number };
  /** Nodes per list page (default 500). */
  readonly pageSize?: number;
  /** Server-side watch timeout, randomised ×[1, 2) per watch (default 300 s). */
  readonly watchTimeoutSeconds?: number;
  readonly random?: () => number;
}

/** Consecutive 410s relisted at once before the watcher backs off like for any other error. */
const MAX_QUICK_RELISTS = 3;

/**
 * Feeds the PeerStore from the API server: a paginated list of all Nodes (which
 * replaces the whole store, dropping nodes only the disk cache knew, and marks
 * the view API-sourced), then a watch from the list's resourceVersion with
 * bookmarks. A watch the server closes is resumed from the last resourceVersion;
 * 410 Gone relists at once; any other error relists after a capped, jittered
 * backoff. Only {name, underlayIP, podCIDRs} of each Node is kept.
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

  async run(signal: AbortSignal): Promise<void> {
    const { log } = this.#opts;
    const { baseMs, capMs } = this.#opts.backoff ?? { baseMs: 1000, capMs: 30_000 };
    let attempt = 0;
    let quickRelists = 0;
    while (!signal.aborted) {
      const roundStart = Date.now();
      try {
        let rv = await this.#list(signal, attempt);
        attempt = 0;
        for (;;) rv = await this.#watch(rv, signal);
      } catch (err: unknown) {
        if (signal.aborted) break;
        if (Date.now() - roundStart > capMs) attempt = 0;
        if (isGone(err) && quickRelists++ < MAX_QUICK_RELISTS) {
          log.info({ op: 'watch', err }, 'node watch expired; relisting');
          continue;
        }
        quickRelists = 0;
        const delayMs = backoffDelay(attempt++, baseMs, capMs, this.#random);
        log.warn({ err, op: 'watch', attempt, delayMs }, 'node watch failed; restarting');
        await sleep(delayMs, signal).catch(() => undefined);
      }
    }
  }

  /** Lists every Node page by page and replaces the store; returns the list's resourceVersion. */
  async #list(signal: AbortSignal, attempt: number): Promise<string> {
    const { api, store, log } = this.#opts;
    const nodes: PeerNode[] = [];
    let continueToken: string | undefined;
    let resourceVersion = '';
    let total = 0;
    do {
      const page = await api.listNodes({
        limit: this.#opts.pageSize ?? 500,
        signal,
        ...(continueToken ? { continueToken } : {}),
      });
      for (const obj of page.items) {
        const node = this.#convert(obj);
        if (node) nodes.push(node);
      }
      total += page.items.length;
      continueToken = page.continueToken;
      resourceVersion = page.resourceVersion;
    } while (continueToken);
    store.replaceAll(nodes, 'api');
    this.#synced = true;
    log.info({ op: 'list', nodes: total, attempt, resourceVersion }, 'node list synced');
    return resourceVersion;
  }

  /** Follows one watch until the server ends it; returns the last resourceVersion seen. */
  async #watch(from: string, signal: AbortSignal): Promise<string> {
    const { api } = this.#opts;
    const base = this.#opts.watchTimeoutSeconds ?? 300;
    const timeoutSeconds = Math.round(base * (1 + this.#random()));
    const started = Date.now();
    let events = 0;
    let rv = from;
    for await (const ev of api.watchNodes({ resourceVersion: rv, timeoutSeconds, signal })) {
      events++;
      if (ev.type === 'BOOKMARK') {
        rv = ev.resourceVersion;
        continue;
      }
      rv = ev.object.metadata?.resourceVersion ?? rv;
      if (ev.type === 'DELETED') this.#remove(ev.object);
      else this.#apply(ev.object);
    }
    if (signal.aborted) throw signal.reason;
    if (events === 0 && Date.now() - started < 1000) {
      throw new WeftError('EWATCHCLOSED', 'the API server closed the node watch at once');
    }
    return rv;
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
