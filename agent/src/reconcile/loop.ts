import { backoffDelay, jitter, sleep } from '../../../common/backoff.js';
import type { Logger } from '../../../common/log.js';
import type { DatapathConfig, PeerNode, SelfNode, SyncOptions, SyncResult } from '../datapath/types.js';
import type { ClusterView, PeerStore } from '../peers/peer-store.js';
import type { ReconcileMetrics } from './metrics.js';
import { Trigger } from './trigger.js';

/** What the loop needs from the datapath (the real one is datapath/Datapath). */
export interface DatapathSyncer {
  sync(
    self: SelfNode,
    peers: readonly PeerNode[],
    config: DatapathConfig,
    opts?: SyncOptions,
  ): Promise<SyncResult>;
}

export interface ReconcileLoopOptions {
  readonly datapath: DatapathSyncer;
  readonly store: PeerStore;
  readonly config: DatapathConfig;
  readonly resyncMs: number;
  readonly log: Logger;
  readonly metrics: ReconcileMetrics;
  readonly random?: () => number;
}

/** `pass` numbers the passes that called the datapath, from 1 (see passesStarted). */
export type SyncedListener = (result: SyncResult, view: ClusterView, pass: number) => void;

/**
 * Drives datapath.sync: once at start, on every PeerStore change (coalesced: the
 * changes that arrive during a pass cause exactly one more pass) and every
 * resync ± 10 %. One pass at a time by construction (a single async loop). While
 * this node has no podCIDR it logs and waits. A failed pass is retried after a
 * capped, jittered backoff that changes cannot shortcut.
 *
 * Passes caused by a change plan against what the previous pass applied
 * (trustLastApplied: no kernel dump, so one new peer costs one small batch);
 * the first pass, every periodic resync and the first pass after a failure read
 * the kernel in full, which is what finds and repairs hand-made drift.
 */
export class ReconcileLoop {
  readonly #opts: ReconcileLoopOptions;
  readonly #trigger = new Trigger();
  readonly #listeners = new Set<SyncedListener>();
  readonly #random: () => number;
  #lastActivityAt = Date.now();
  #firstSuccessAt: number | undefined;
  #lastResult: SyncResult | undefined;
  #lastSelf: SelfNode | undefined;
  #failures = 0;
  #waitingLogged = false;
  #fullObserve = true;
  #passes = 0;

  constructor(opts: ReconcileLoopOptions) {
    this.#opts = opts;
    this.#random = opts.random ?? Math.random;
  }

  /** Epoch ms of the last time the loop woke up to work (a pass, or a check while waiting). */
  get lastActivityAt(): number {
    return this.#lastActivityAt;
  }
  get firstSuccessAt(): number | undefined {
    return this.#firstSuccessAt;
  }
  get lastResult(): SyncResult | undefined {
    return this.#lastResult;
  }
  /** This node as it was programmed by the last successful pass. */
  get lastSelf(): SelfNode | undefined {
    return this.#lastSelf;
  }
  get consecutiveFailures(): number {
    return this.#failures;
  }
  /**
   * How many passes have called datapath.sync so far. A pass numbered above the
   * value read right after a Datapath.setPolicy sees that policy content.
   */
  get passesStarted(): number {
    return this.#passes;
  }

  /** Healthy unless no pass (or podCIDR check) started within 3 × resync. */
  isStuck(now = Date.now()): boolean {
    return now - this.#lastActivityAt > 3 * this.#opts.resyncMs + 1000;
  }

  /** Called after every successful pass. */
  onSynced(listener: SyncedListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Requests a pass soon (coalesced with any other request). */
  trigger(): void {
    this.#trigger.fire();
  }

  /** Requests a pass that reads the kernel in full (something outside the plans changed it). */
  triggerFull(): void {
    this.#fullObserve = true;
    this.#trigger.fire();
  }

  async run(signal: AbortSignal): Promise<void> {
    const off = this.#opts.store.onChange(() => this.#trigger.fire());
    this.#trigger.fire();
    this.#lastActivityAt = Date.now();
    try {
      while (!signal.aborted) {
        const changed = await this.#trigger.wait(jitter(this.#opts.resyncMs, 0.1, this.#random), signal);
        if (signal.aborted) break;
        if (!changed) this.#fullObserve = true;
        this.#lastActivityAt = Date.now();
        const ok = await this.#pass();
        if (!ok && !signal.aborted) {
          this.#fullObserve = true;
          await sleep(this.#retryDelayMs(), signal).catch(() => undefined);
          this.#trigger.fire();
        }
      }
    } finally {
      off();
    }
  }

  /** One pass; returns false when it failed (and should be retried after a backoff). */
  async #pass(): Promise<boolean> {
    const { store, datapath, config, log, metrics } = this.#opts;
    const view = store.view();
    const self = view.self;
    if (!self || self.podCIDRs.length === 0) {
      if (!this.#waitingLogged) {
        log.info(
          { node: store.selfName, op: 'wait', known: self !== undefined, source: view.source },
          self
            ? 'waiting for this node to be assigned a podCIDR'
            : 'waiting for this node to appear in the cluster view',
        );
        this.#waitingLogged = true;
      }
      return true;
    }
    this.#waitingLogged = false;
    const started = performance.now();
    const full = this.#fullObserve;
    const pass = ++this.#passes;
    try {
      const result = await datapath.sync(self, view.peers, config, { trustLastApplied: !full });
      this.#fullObserve = false;
      const durationMs = performance.now() - started;
      metrics.recordSuccess(result, view.peers.length, durationMs / 1000);
      const first = this.#firstSuccessAt === undefined;
      this.#firstSuccessAt ??= Date.now();
      this.#lastResult = result;
      this.#lastSelf = self;
      this.#failures = 0;
      const fields = {
        node: self.name,
        op: 'sync',
        changes: result.changes,
        peers: view.peers.length,
        full,
        durationMs,
      };
      if (first || result.changes > 0) log.info(fields, 'datapath synced');
      else log.debug(fields, 'datapath synced');
      for (const listener of [...this.#listeners]) listener(result, view, pass);
      return true;
    } catch (err: unknown) {
      const durationMs = performance.now() - started;
      metrics.recordFailure(durationMs / 1000);
      this.#failures++;
      log.warn(
        { err, node: self.name, op: 'sync', durationMs, failures: this.#failures },
        'datapath sync failed',
      );
      return false;
    }
  }

  #retryDelayMs(): number {
    const capMs = Math.min(30_000, this.#opts.resyncMs);
    const baseMs = Math.min(500, capMs);
    return backoffDelay(this.#failures - 1, baseMs, capMs, this.#random);
  }
}
