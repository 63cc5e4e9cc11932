import { byText } from './peer-routes.js';
import type { PeerNode } from './types.js';

/** Sorted-list patching and peer-list diffs for desired-incremental.ts. Pure. */

/** Above this many changed peers a full desired() is about as cheap as patching. */
const MAX_PATCHED_PEERS = 64;

/** Index of `k` in a list sorted by unique `key`, or where it would go. */
export function findSorted<T>(list: readonly T[], k: string, key: (t: T) => string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (byText(key(list[mid] as T), k) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A copy of a list sorted by unique `key`, without the keys in `remove` and with `add` in place. */
export function patchSorted<T>(
  list: readonly T[],
  remove: Iterable<string>,
  add: readonly T[],
  key: (t: T) => string,
): T[] {
  const out = list.slice();
  for (const k of remove) {
    const i = findSorted(out, k, key);
    if (i < out.length && key(out[i] as T) === k) out.splice(i, 1);
  }
  for (const item of add) out.splice(findSorted(out, key(item), key), 0, item);
  return out;
}

/**
 * The peers only in `prev` (gone) and only in `next` (come), by object identity,
 * for lists that keep their order (a map's values): one walk that steps over
 * single insertions, removals and replacements. Undefined when more than
 * MAX_PATCHED_PEERS differ. An object that moved shows up on both sides.
 */
export function diffPeerLists(
  prev: readonly PeerNode[],
  next: readonly PeerNode[],
): { gone: PeerNode[]; come: PeerNode[] } | undefined {
  const gone: PeerNode[] = [];
  const come: PeerNode[] = [];
  let i = 0;
  let j = 0;
  while (i < prev.length || j < next.length) {
    const a = prev[i];
    const b = next[j];
    if (a === b) {
      i++;
      j++;
      continue;
    }
    if (gone.length + come.length > MAX_PATCHED_PEERS) return undefined;
    if (a !== undefined && b !== undefined && prev[i + 1] === b) {
      gone.push(a);
      i++;
    } else if (a !== undefined && b !== undefined && next[j + 1] === a) {
      come.push(b);
      j++;
    } else {
      if (a !== undefined) gone.push(a);
      if (b !== undefined) come.push(b);
      i++;
      j++;
    }
  }
  return gone.length + come.length > MAX_PATCHED_PEERS ? undefined : { gone, come };
}
