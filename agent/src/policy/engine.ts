import type { Logger } from '../../../common/log.js';
import type { PolicyContent } from '../datapath/state.js';
import { type CompiledPolicy, compilePolicies, type PodSelection } from './compile.js';
import type { PolicyMetrics } from './metrics.js';
import type { PolicyStore } from './store.js';

export interface PolicyEngineOptions {
  readonly nodeName: string;
  readonly store: PolicyStore;
  /** Where the compiled part goes (Datapath.setPolicy). */
  readonly setPolicy: (content: PolicyContent) => void;
  /** The reconcile loop: a pass is requested after each change; its success marks the change enforced. */
  readonly loop: { trigger(): void; onSynced(listener: () => void): () => void };
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

  run(signal: AbortSignal): Promise<void> {
    const offs = [
      this.#o.store.onChange(() => this.#schedule()),
      this.#o.loop.onSynced(() => {
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
        pods: store.pods.values(),
        namespaces: store.namespaces,
        policies: store.policies.values(),
        sctp: this.#o.sctp,
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
    this.#o.setPolicy(compiled.content);
    this.#o.loop.trigger();
    if (first)
      log.info(
        { op: 'compile', policies: compiled.enforcedPolicies, pods: compiled.selections.length },
        'network policy synced',
      );
  }
}
