import { sleep } from '../../../common/backoff.js';
import type { Logger } from '../../../common/log.js';
import { Trigger } from '../reconcile/trigger.js';
import type { PeerStore } from './peer-store.js';
import type { ViewCache } from './view-cache.js';

/**
 * Persists the PeerStore to the disk cache whenever it changes, but only once the
 * view comes from a complete API list (a view restored from the cache, or a
 * half-received list, is never written back). A write waits `delayMs` after the
 * change that asked for it, so that serialising thousands of Nodes does not
 * compete with the datapath pass the same change starts; at most one write per
 * `minIntervalMs`; one write at a time.
 */
export class ViewCacheWriter {
  readonly #store: PeerStore;
  readonly #cache: ViewCache;
  readonly #log: Logger;
  readonly #minIntervalMs: number;
  readonly #delayMs: number;
  readonly #trigger = new Trigger();
  #writtenVersion = -1;

  constructor(opts: {
    store: PeerStore;
    cache: ViewCache;
    log: Logger;
    minIntervalMs?: number;
    delayMs?: number;
  }) {
    this.#store = opts.store;
    this.#cache = opts.cache;
    this.#log = opts.log;
    this.#minIntervalMs = opts.minIntervalMs ?? 1000;
    this.#delayMs = opts.delayMs ?? 500;
  }

  async run(signal: AbortSignal): Promise<void> {
    const off = this.#store.onChange(() => this.#trigger.fire());
    this.#trigger.fire();
    try {
      while (!signal.aborted) {
        await this.#trigger.wait(60_000, signal);
        if (signal.aborted) break;
        await sleep(this.#delayMs, signal).catch(() => undefined);
        await this.writeIfChanged();
        await sleep(this.#minIntervalMs, signal).catch(() => undefined);
      }
    } finally {
      off();
    }
    await this.writeIfChanged();
  }

  /** Writes the current view if it is API-sourced and not written yet; logs, never throws. */
  async writeIfChanged(): Promise<void> {
    const version = this.#store.version;
    if (this.#store.source !== 'api' || version === this.#writtenVersion) return;
    try {
      await this.#cache.save(this.#store.selfName, this.#store.view().nodes);
      this.#writtenVersion = version;
      this.#log.debug({ op: 'save', nodes: this.#store.size }, 'cluster view cached');
    } catch (err: unknown) {
      this.#log.warn({ err, op: 'save' }, 'cannot write cluster view cache');
    }
  }
}
