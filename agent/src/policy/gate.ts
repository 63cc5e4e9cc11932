import { type GatedPod, type PodGate, PodGateError } from '../pod-gate.js';
import type { PolicyEngine } from './engine.js';
import type { PolicyStore } from './store.js';
import { refOf } from './types.js';

export interface EnginePodGateOptions {
  readonly engine: Pick<PolicyEngine, 'synced' | 'setOverlay' | 'whenApplied'>;
  readonly store: Pick<PolicyStore, 'pods' | 'onChange'>;
  /** The agent's: aborting fails the waits at once. */
  readonly signal: AbortSignal;
  /** How long ADD waits for the watch to report the Pod; default 5 s. */
  readonly podWaitMs?: number;
  /** How long ADD waits for the pass that applies the pod's verdict; default 10 s. */
  readonly applyWaitMs?: number;
}

/** Resolves true when `ready` resolves first, false after `ms` or once `signal` aborts. */
function within(ready: Promise<void>, ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(ok);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(onAbort, ms);
    if (signal.aborted) return done(false);
    signal.addEventListener('abort', onAbort, { once: true });
    void ready.then(() => done(true));
  });
}

/**
 * ADR 13 point 3 on the policy engine: a pod is admitted once the engine has
 * synced, the watch has its Pod (labels, container ports), and a reconcile pass
 * has applied a compilation that includes the addresses ADD gave it. Each
 * refusal is a PodGateError saying which of the three is missing.
 */
export class EnginePodGate implements PodGate {
  readonly #o: EnginePodGateOptions;

  constructor(opts: EnginePodGateOptions) {
    this.#o = opts;
  }

  async admit(pod: GatedPod): Promise<void> {
    const { engine, signal } = this.#o;
    const ref = refOf(pod);
    if (!engine.synced)
      throw new PodGateError(
        'EPOLICYNOTSYNCED',
        'network policy not synced',
        `the agent has not yet listed pods, namespaces and network policies and compiled them; ${ref} waits`,
      );
    const known = this.#podKnown(ref);
    const seen = await within(known.seen, this.#o.podWaitMs ?? 5000, signal);
    known.off();
    if (!seen)
      throw new PodGateError(
        'EPODUNKNOWN',
        'pod not known to network policy',
        `the agent's Pod watch has not reported ${ref} (its labels decide its policies)`,
      );
    engine.setOverlay(pod.attachment, { namespace: pod.namespace, name: pod.name, ips: pod.ips });
    const wait = engine.whenApplied();
    if (!(await within(wait.applied, this.#o.applyWaitMs ?? 10_000, signal))) {
      wait.cancel();
      throw new PodGateError(
        'EPOLICYNOTAPPLIED',
        'network policy not applied',
        `no reconcile pass has applied the verdict for ${ref} (${pod.ips.join(', ')}) yet`,
      );
    }
  }

  forget(attachment: string): void {
    this.#o.engine.setOverlay(attachment, undefined);
  }

  /** Resolves once the store has the Pod; `off` stops listening. */
  #podKnown(ref: string): { seen: Promise<void>; off: () => void } {
    const { store } = this.#o;
    let off = () => {};
    const seen = new Promise<void>((resolve) => {
      if (store.pods.has(ref)) return resolve();
      off = store.onChange(() => {
        if (store.pods.has(ref)) resolve();
      });
    });
    return { seen, off: () => off() };
  }
}
