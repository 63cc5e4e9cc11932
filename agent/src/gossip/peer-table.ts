import { computePeerState, type LivenessTimeouts, PEER_STATES, type PeerState } from './liveness.js';

/** Local observations about one peer: never gossiped. */
export interface PeerObservation {
  /** Last sign of life: its record advanced here, or it sent us a frame. */
  lastSeenAt: number;
  /** Latest measured RTT in ms, null before the first answer. */
  rttMs: number | null;
  rttAt: number;
  /** Last time we sent it a ping or digest expecting an answer. */
  probedAt: number;
  state: PeerState;
}

/** Liveness and RTT bookkeeping per peer; pure apart from the clock values passed in. */
export class PeerTable {
  readonly #peers = new Map<string, PeerObservation>();
  readonly #timeouts: LivenessTimeouts;

  constructor(timeouts: LivenessTimeouts) {
    this.#timeouts = timeouts;
  }

  get(name: string): PeerObservation | undefined {
    return this.#peers.get(name);
  }

  #entry(name: string, nowMs: number): PeerObservation {
    let p = this.#peers.get(name);
    if (!p) {
      p = { lastSeenAt: nowMs, rttMs: null, rttAt: 0, probedAt: 0, state: 'alive' };
      this.#peers.set(name, p);
    }
    return p;
  }

  /** The peer's record advanced, or it spoke to us directly. */
  noteSeen(name: string, nowMs: number): void {
    const p = this.#entry(name, nowMs);
    p.lastSeenAt = Math.max(p.lastSeenAt, nowMs);
  }

  noteRtt(name: string, rttMs: number, nowMs: number): void {
    const p = this.#entry(name, nowMs);
    p.rttMs = rttMs;
    p.rttAt = nowMs;
  }

  noteProbed(name: string, nowMs: number): void {
    this.#entry(name, nowMs).probedAt = nowMs;
  }

  delete(name: string): void {
    this.#peers.delete(name);
  }

  /**
   * Recomputes every peer's state; returns true when any changed, and the
   * count per state. `leaving(name)` tells whether its record is a tombstone.
   */
  evaluate(
    nowMs: number,
    names: Iterable<string>,
    leaving: (name: string) => boolean,
  ): { changed: boolean; counts: Record<PeerState, number> } {
    const counts = Object.fromEntries(PEER_STATES.map((s) => [s, 0])) as Record<PeerState, number>;
    let changed = false;
    for (const name of names) {
      const p = this.#entry(name, nowMs);
      const next = computePeerState(p.lastSeenAt, nowMs, leaving(name), this.#timeouts);
      if (next !== p.state) changed = true;
      p.state = next;
      counts[next]++;
    }
    return { changed, counts };
  }
}
