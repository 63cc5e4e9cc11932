/**
 * Pure leader-election decisions on a coordination.k8s.io/v1 Lease. Expiry is judged
 * by the local clock since this replica last saw the Lease change (its resourceVersion),
 * never by comparing renewTime with the local clock, so clock skew between machines
 * cannot make a follower steal a lease that is being renewed.
 */

/** The parts of a Lease the decision needs. */
export interface LeaseView {
  readonly holder: string;
  readonly durationSeconds: number;
  readonly resourceVersion: string;
}

/** When this replica last saw the Lease change. */
export interface LeaseObservation {
  readonly resourceVersion: string;
  readonly atMs: number;
}

export type LeaseStep =
  /** No Lease yet: create it with us as holder. */
  | { readonly action: 'create' }
  /** We hold it: renew. */
  | { readonly action: 'renew' }
  /** Released or expired: take it over. */
  | { readonly action: 'acquire'; readonly previousHolder: string }
  /** Someone else holds it and it is live. */
  | { readonly action: 'follow'; readonly holder: string; readonly expiresInMs: number };

/** Keeps the first time a resourceVersion was seen; a new resourceVersion restarts the clock. */
export function observeLease(
  previous: LeaseObservation | undefined,
  lease: LeaseView,
  nowMs: number,
): LeaseObservation {
  if (previous?.resourceVersion === lease.resourceVersion) return previous;
  return { resourceVersion: lease.resourceVersion, atMs: nowMs };
}

export function planLeaseStep(
  identity: string,
  lease: LeaseView | undefined,
  observed: LeaseObservation | undefined,
  nowMs: number,
): LeaseStep {
  if (lease === undefined) return { action: 'create' };
  if (lease.holder === identity) return { action: 'renew' };
  if (lease.holder === '') return { action: 'acquire', previousHolder: '' };
  const seenAt = observed?.resourceVersion === lease.resourceVersion ? observed.atMs : nowMs;
  const expiresInMs = seenAt + Math.max(1, lease.durationSeconds) * 1000 - nowMs;
  if (expiresInMs <= 0) return { action: 'acquire', previousHolder: lease.holder };
  return { action: 'follow', holder: lease.holder, expiresInMs };
}

/** A leader that cannot renew for this long stops leading before any follower may take over. */
export function renewDeadlinePassed(lastRenewMs: number, renewDeadlineMs: number, nowMs: number): boolean {
  return nowMs - lastRenewMs > renewDeadlineMs;
}
