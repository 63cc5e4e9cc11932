/** What one node thinks of a peer. */
export type PeerState = 'alive' | 'suspect' | 'dead' | 'left';
export const PEER_STATES: readonly PeerState[] = ['alive', 'suspect', 'dead', 'left'];

export interface LivenessTimeouts {
  /** No sign of life for this long → suspect. */
  readonly suspectAfterMs: number;
  /** No sign of life for this long → dead. */
  readonly deadAfterMs: number;
}

/**
 * The state of a peer from the last time it showed life: its record advanced
 * here, or it sent us an authenticated frame directly. A tombstone wins.
 */
export function computePeerState(
  lastSeenAt: number,
  nowMs: number,
  leaving: boolean,
  t: LivenessTimeouts,
): PeerState {
  if (leaving) return 'left';
  const silent = nowMs - lastSeenAt;
  if (silent >= t.deadAfterMs) return 'dead';
  if (silent >= t.suspectAfterMs) return 'suspect';
  return 'alive';
}

/** Gossip fan-out for N known nodes: ceil(log2 N) + 1, at least 1, at most N - 1. */
export function computeFanout(nodes: number): number {
  if (nodes <= 1) return 0;
  return Math.min(nodes - 1, Math.ceil(Math.log2(nodes)) + 1);
}

/** Picks up to `count` distinct items uniformly at random (partial Fisher-Yates). */
export function pickRandom<T>(items: readonly T[], count: number, random: () => number = Math.random): T[] {
  const pool = [...items];
  const n = Math.min(count, pool.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    const a = pool[i] as T;
    pool[i] = pool[j] as T;
    pool[j] = a;
  }
  return pool.slice(0, n);
}
