import type { Logger } from '../../../common/log.js';
import type { PolicyContent } from '../datapath/state.js';
import { type CompiledPolicy, compilePolicies, type PodSelection } from './compile.js';
import type { PolicyMetrics } from './metrics.js';
import { computeOverlaidPods, type PodOverlay } from './overlay.js';
import { PolicyMemo } from './peers.js';
import type { PolicyStore } from './store.js';

export interface PolicyEngineOptions {
  readonly nodeName: string;
  readonly store: PolicyStore;
  /** Where the compiled part goes (Datapath.setPolicy). */
  readonly setPolicy: (content: PolicyContent) => void;
  /** The reconcile loop: a pass is requested after each change; its success marks the change enforced. */
  readonly loop: {
    trigger(): void;
    onSynced(listener: (result: unknown, view: unknown, pass: number) => void): () => void;
    /** Passes that have called the datapath so far (ReconcileLoop.passesStarted). */
    readonly passesStarted: number;
  };
  readonly metrics: PolicyMetrics;
  readonly log: Logger;
  /** The kernel can match SCTP (probed at start). */
  readonly sctp: boolean;
}

/**
 * Compiles the policy store on every change (coalesced: changes arriving while
 * one compilation is pending cause one more), once every kind has been listed,
 * and hands the result to the datapath through the reconcile loop. Until then
 * nothing is handed over, so the kernel keeps the rules it has (ADR 13).
 */
export class PolicyEngine {
  readonly #o: PolicyEngineOptions;
  readonly #reported = new Set<string>();
  #last: CompiledPolicy | undefined;
  #scheduled = false;
  #waitingSince: number | undefined;
  /** CNI ADD's addresses by attachment, until its DEL (ADR 13 point 3). */
  readonly #overlay = new Map<string, PodOverlay>();
  #handOvers = 0;
  /** What the next compilation may reuse of the last ones. */
  readonly #memo = new PolicyMemo();
  /** Waiting for the hand-over after `after`, then for a synced pass numbered above `pass`. */
  readonly #waiters = new Set<{ after: number; pass?: number; resolve: () => void }>();

  constructor(opts: PolicyEngineOptions) {
    this.#o = opts;
  }

  /** True once a complete compilation has been handed to the datapath. */
  get synced(): boolean {
    return this.#last !== undefined;
  }

  /** Which policies isolate each pod of this node, from the last compilation. */
  selections(): readonly PodSelection[] {
    return this.#last?.selections ?? [];
  }

  /**
   * Registers (or, with undefined, drops) the addresses CNI ADD gave an
   * attachment; the next compilation sees them on the store's Pod of that name.
   */
  setOverlay(attachment: string, entry: PodOverlay | undefined): void {
    const had = this.#overlay.has(attachment);
    if (entry) this.#overlay.set(attachment, entry);
    else this.#overlay.delete(attachment);
    if (entry || had) this.#schedule();
  }

  /**
   * Resolves once a compilation made after this call has been applied by a
   * successful reconcile pass, i.e. a pass that started after its hand-over
   * (a pass already running may have read the older content). `cancel` stops waiting.
   */
  whenApplied(): { applied: Promise<void>; cancel: () => void } {
    let waiter: { after: number; pass?: number; resolve: () => void } | undefined;
    const applied = new Promise<void>((resolve) => {
      waiter = { after: this.#handOvers, resolve };
      this.#waiters.add(waiter);
    });
    this.#schedule();
    return { applied, cancel: () => waiter && this.#waiters.delete(waiter) };
  }

  #passSynced(pass: number): void {
    for (const w of this.#waiters) {
      if (w.pass === undefined || pass <= w.pass) continue;
      this.#waiters.delete(w);
      w.resolve();
    }
  }

  run(signal: AbortSignal): Promise<void> {
    const offs = [
      this.#o.store.onChange(() => this.#schedule()),
      this.#o.loop.onSynced((_result, _view, pass) => {
        this.#passSynced(pass);
        if (this.#waitingSince === undefined) return;
        this.#o.metrics.applyDuration.observe((performance.now() - this.#waitingSince) / 1000);
        this.#waitingSince = undefined;
      }),
    ];
    this.#schedule();
    return new Promise((resolve) => {
      const stop = () => {
        for (const off of offs) off();
        resolve();
      };
      if (signal.aborted) stop();
      else signal.addEventListener('abort', stop, { once: true });
    });
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.compileNow();
    });
  }

  /** One compilation and hand-over (public for tests). */
  compileNow(): void {
    const { store, metrics, log } = this.#o;
    if (!store.synced) return;
    const end = metrics.compileDuration.startTimer();
    let compiled: CompiledPolicy;
    try {
      compiled = compilePolicies({
        nodeName: this.#o.nodeName,
        pods: computeOverlaidPods(store.pods.values(), this.#overlay.values(), this.#o.nodeName),
        namespaces: store.namespaces,
        policies: store.policies.values(),
        sctp: this.#o.sctp,
        memo: this.#memo,
      });
    } catch (err: unknown) {
      metrics.compileErrors.inc();
      log.error({ err, op: 'compile' }, 'policy compilation failed; the rules in force stay');
      return;
    } finally {
      end();
    }
    for (const p of compiled.problems) {
      const key = `${p.policy} ${p.field} ${p.reason}`;
      if (this.#reported.has(key)) continue;
      this.#reported.add(key);
      metrics.problems.inc();
      log.warn(
        { op: 'compile', policy: p.policy, field: p.field, err: p.reason },
        'policy field not enforceable; it allows nothing',
      );
    }
    const first = this.#last === undefined;
    this.#last = compiled;
    metrics.policies.set(compiled.enforcedPolicies);
    metrics.pods.set({ direction: 'ingress' }, compiled.selections.filter((s) => s.ingressChain).length);
    metrics.pods.set({ direction: 'egress' }, compiled.selections.filter((s) => s.egressChain).length);
    this.#waitingSince ??= performance.now();
    const handOver = ++this.#handOvers;
    const passes = this.#o.loop.passesStarted;
    for (const w of this.#waiters) if (w.pass === undefined && handOver > w.after) w.pass = passes;
    this.#o.setPolicy(compiled.content);
    this.#o.loop.trigger();
    if (first)
      log.info(
        { op: 'compile', policies: compiled.enforcedPolicies, pods: compiled.selections.length },
        'network policy synced',
      );
  }
}
