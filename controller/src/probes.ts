/** Result of a health or readiness probe: ok, or the reason it is not. */
export interface ProbeResult {
  readonly ok: boolean;
  readonly detail: string;
}

export interface ReadinessInput {
  readonly nowMs: number;
  /** when the API server last answered a lease round (undefined: never) */
  readonly lastLeaseContactMs: number | undefined;
  readonly leaseDurationMs: number;
  readonly isLeader: boolean;
  /** whether the leader's Node cache is complete */
  readonly nodesSynced: boolean;
}

/**
 * Ready = the API server answered a lease round within one lease duration and, on the
 * leader, the Node cache is synced. A follower that talks to the API server is ready:
 * it is standing by.
 */
export function computeReadiness(input: ReadinessInput): ProbeResult {
  if (input.lastLeaseContactMs === undefined)
    return { ok: false, detail: 'no lease round has reached the API server yet' };
  const silentMs = input.nowMs - input.lastLeaseContactMs;
  if (silentMs > input.leaseDurationMs) {
    return { ok: false, detail: `API server unreachable for ${Math.round(silentMs / 1000)} s` };
  }
  if (input.isLeader && !input.nodesSynced) return { ok: false, detail: 'leader: Node cache not synced' };
  return { ok: true, detail: input.isLeader ? 'leader' : 'standby' };
}
