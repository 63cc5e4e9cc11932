import { type V1Lease, V1MicroTime } from '@kubernetes/client-node';
import { jitter, sleep } from '../../common/backoff.js';
import type { Logger } from '../../common/log.js';
import { apiErrorSummary, isConflict } from './api-errors.js';
import {
  type LeaseObservation,
  type LeaseView,
  observeLease,
  planLeaseStep,
  renewDeadlinePassed,
} from './lease-plan.js';
import type { ControllerMetrics } from './metrics.js';

/** The Lease object's API, narrowed (a fake in unit tests, CoordinationV1Api in the process). */
export interface LeaseApi {
  /** undefined when the Lease does not exist */
  read(): Promise<V1Lease | undefined>;
  create(lease: V1Lease): Promise<V1Lease>;
  /** an update: fails with 409 when lease.metadata.resourceVersion is stale */
  replace(lease: V1Lease): Promise<V1Lease>;
}

export interface LeaseTiming {
  readonly durationSeconds: number;
  readonly renewPeriodMs: number;
  readonly retryPeriodMs: number;
  /** a leader that has not renewed for this long stops; must be below durationSeconds */
  readonly renewDeadlineMs: number;
}

export const DEFAULT_LEASE_TIMING: LeaseTiming = {
  durationSeconds: 15,
  renewPeriodMs: 5000,
  retryPeriodMs: 2000,
  renewDeadlineMs: 10_000,
};

export interface LeaseElectorDeps {
  readonly api: LeaseApi;
  readonly name: string;
  readonly namespace: string;
  readonly identity: string;
  readonly timing: LeaseTiming;
  readonly metrics: ControllerMetrics;
  readonly log: Logger;
  /** Called once when this replica becomes leader; `signal` aborts when it stops leading. */
  readonly onStartedLeading: (signal: AbortSignal) => void;
  /** Called once when leadership is lost (not on release): the process should exit. */
  readonly onStoppedLeading: (reason: string) => void;
  readonly now?: () => number;
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease with optimistic concurrency
 * (every write carries the resourceVersion that was read). Only the leader runs the
 * chores; a leader that loses the Lease, or cannot renew it within renewDeadlineMs,
 * stops them and reports through onStoppedLeading.
 */
export class LeaseElector {
  readonly #deps: LeaseElectorDeps;
  readonly #now: () => number;
  #observed: LeaseObservation | undefined;
  #leading: AbortController | undefined;
  #lastRenewMs = 0;
  #lastContactMs: number | undefined;
  #released = false;

  constructor(deps: LeaseElectorDeps) {
    if (deps.timing.renewDeadlineMs >= deps.timing.durationSeconds * 1000) {
      throw new Error('renewDeadlineMs must be shorter than the lease duration');
    }
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  get isLeader(): boolean {
    return this.#leading !== undefined;
  }

  /** When the API server last answered a lease round (undefined: never). */
  get lastContactMs(): number | undefined {
    return this.#lastContactMs;
  }

  /** Runs election rounds until `signal` aborts. Never throws. */
  async run(signal: AbortSignal): Promise<void> {
    const { timing } = this.#deps;
    while (!signal.aborted) {
      await this.runRound();
      const period = this.isLeader ? timing.renewPeriodMs : timing.retryPeriodMs;
      await sleep(jitter(period, 0.2), signal).catch(() => undefined);
    }
  }

  /** One election round (exported for tests): read, decide, write. */
  async runRound(): Promise<void> {
    if (this.#released) return;
    try {
      await withTimeout(this.#step(), this.#deps.timing.renewDeadlineMs / 2);
      this.#lastContactMs = this.#now();
    } catch (err: unknown) {
      this.#deps.metrics.errors.inc({ op: 'lease' });
      this.#deps.log.warn({ op: 'lease', err: apiErrorSummary(err) }, 'lease round failed');
    }
    if (
      this.isLeader &&
      renewDeadlinePassed(this.#lastRenewMs, this.#deps.timing.renewDeadlineMs, this.#now())
    ) {
      this.#stopLeading('could not renew the lease before the renew deadline');
    }
  }

  /**
   * Gives the Lease up (SIGTERM): stops the chores, then empties holderIdentity so a
   * follower takes over at its next round instead of waiting for expiry. No round runs
   * after this.
   */
  async release(): Promise<void> {
    this.#released = true;
    if (this.#leading === undefined) return;
    this.#leading.abort(new Error('releasing the lease'));
    this.#leading = undefined;
    this.#deps.metrics.isLeader.set(0);
    const current = await this.#deps.api.read();
    if (current?.spec?.holderIdentity !== this.#deps.identity) return;
    const now = new V1MicroTime(this.#now());
    await this.#deps.api.replace({
      ...current,
      spec: { ...current.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now },
    });
    this.#deps.log.info({ op: 'lease' }, 'lease released');
  }

  async #step(): Promise<void> {
    const { api, identity } = this.#deps;
    const current = await api.read();
    const view = current === undefined ? undefined : leaseView(current);
    if (view !== undefined) this.#observed = observeLease(this.#observed, view, this.#now());
    const step = planLeaseStep(identity, view, this.#observed, this.#now());
    switch (step.action) {
      case 'create':
        if (await this.#write(() => api.create(this.#desiredLease(undefined)))) this.#startLeading('');
        return;
      case 'renew':
        if (current !== undefined && (await this.#write(() => api.replace(this.#renewedLease(current))))) {
          this.#startLeading(identity);
        }
        return;
      case 'acquire':
        if (current !== undefined && (await this.#write(() => api.replace(this.#desiredLease(current))))) {
          this.#startLeading(step.previousHolder);
        }
        return;
      case 'follow':
        if (this.isLeader) this.#stopLeading(`lease is held by ${step.holder}`);
        return;
    }
  }

  /** Runs a write; true on success, false when another writer won (409). */
  async #write(op: () => Promise<V1Lease>): Promise<boolean> {
    try {
      const written = await op();
      this.#observed = observeLease(undefined, leaseView(written), this.#now());
      this.#lastRenewMs = this.#now();
      return true;
    } catch (err: unknown) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  /** A Lease naming us as holder; `previous` keeps its metadata (resourceVersion) and counts the transition. */
  #desiredLease(previous: V1Lease | undefined): V1Lease {
    const now = new V1MicroTime(this.#now());
    const transitions = previous?.spec?.leaseTransitions ?? 0;
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: previous?.metadata ?? { name: this.#deps.name, namespace: this.#deps.namespace },
      spec: {
        holderIdentity: this.#deps.identity,
        leaseDurationSeconds: this.#deps.timing.durationSeconds,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: previous === undefined ? 0 : transitions + 1,
      },
    };
  }

  #renewedLease(current: V1Lease): V1Lease {
    return {
      ...current,
      spec: {
        ...current.spec,
        leaseDurationSeconds: this.#deps.timing.durationSeconds,
        renewTime: new V1MicroTime(this.#now()),
      },
    };
  }

  #startLeading(previousHolder: string): void {
    if (this.#leading !== undefined) return;
    this.#leading = new AbortController();
    this.#deps.metrics.isLeader.set(1);
    this.#deps.metrics.leaseTransitions.inc();
    this.#deps.log.info({ op: 'lease', previousHolder }, 'became leader');
    this.#deps.onStartedLeading(this.#leading.signal);
  }

  #stopLeading(reason: string): void {
    if (this.#leading === undefined) return;
    this.#leading.abort(new Error(reason));
    this.#leading = undefined;
    this.#deps.metrics.isLeader.set(0);
    this.#deps.log.error({ op: 'lease', reason }, 'lost leadership');
    this.#deps.onStoppedLeading(reason);
  }
}

/** A round that hangs (black-holed connection) must not keep a stale leader leading. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`lease round took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function leaseView(lease: V1Lease): LeaseView {
  return {
    holder: lease.spec?.holderIdentity ?? '',
    durationSeconds: lease.spec?.leaseDurationSeconds ?? 15,
    resourceVersion: lease.metadata?.resourceVersion ?? '',
  };
}
