import { byText } from './desired.js';
import { type PlanOp, planDatapath } from './plan.js';
import type { DatapathState, DesiredDatapath, FdbState, NeighState, RouteState } from './state.js';

/**
 * Splits two lists sorted by `key` (unique keys, as desired() produces them) into
 * the entries that differ: equal entries are dropped from both sides. One merge
 * walk, O(n) with no allocation per shared entry.
 */
function dropShared<T>(
  want: readonly T[],
  have: readonly T[],
  key: (t: T) => string,
  same: (a: T, b: T) => boolean,
): [T[], T[]] {
  const w: T[] = [];
  const h: T[] = [];
  let i = 0;
  let j = 0;
  while (i < want.length && j < have.length) {
    const a = want[i] as T;
    const b = have[j] as T;
    const order = a === b ? 0 : byText(key(a), key(b));
    if (order < 0) {
      w.push(a);
      i++;
    } else if (order > 0) {
      h.push(b);
      j++;
    } else {
      if (a !== b && !same(a, b)) {
        w.push(a);
        h.push(b);
      }
      i++;
      j++;
    }
  }
  for (; i < want.length; i++) w.push(want[i] as T);
  for (; j < have.length; j++) h.push(have[j] as T);
  return [w, h];
}

const sameRoute = (a: RouteState, b: RouteState) =>
  a.gateway === b.gateway && a.dev === b.dev && a.onlink === b.onlink && a.metric === b.metric;
const sameNeigh = (a: NeighState, b: NeighState) => a.dev === b.dev && a.mac === b.mac;
const sameFdb = (a: FdbState, b: FdbState) => a.dev === b.dev && a.dst === b.dst;

/** True when a list is sorted by `key` with no key twice (what dropShared needs). */
function strictlySorted<T>(list: readonly T[], key: (t: T) => string): boolean {
  for (let i = 1; i < list.length; i++) {
    if (byText(key(list[i - 1] as T), key(list[i] as T)) >= 0) return false;
  }
  return true;
}

const routeKey = (r: RouteState) => r.dst;
const neighKey = (n: NeighState) => n.ip;
const fdbKey = (f: FdbState) => f.mac;

/**
 * planDatapath for a kernel known to hold `last` (the desired state the previous
 * sync applied): the same plan, but routes, neighbours and FDB entries both sides
 * share (and reply-table routes) are dropped before planning, so a one-peer change among thousands plans a
 * handful of entries. Falls back to the full plan when the VXLAN device changes
 * or a list is not strictly sorted (then the shortcut's assumptions do not hold).
 */
export function planFromLastApplied(desired: DesiredDatapath, last: DatapathState): PlanOp[] {
  const lists: Array<[readonly unknown[], (t: never) => string]> = [
    [desired.routes, routeKey],
    [last.routes, routeKey],
    [desired.replyRoutes, routeKey],
    [last.replyRoutes, routeKey],
    [desired.neighbours, neighKey],
    [last.neighbours, neighKey],
    [desired.fdb, fdbKey],
    [last.fdb, fdbKey],
  ];
  // A recreated VXLAN device loses its entries: then every entry must be planned.
  const sameVxlan = JSON.stringify(desired.vxlan) === JSON.stringify(last.vxlan);
  if (!sameVxlan || !lists.every(([list, key]) => strictlySorted(list as never[], key))) {
    return planDatapath(desired, last);
  }
  const [wantRoutes, haveRoutes] = dropShared(desired.routes, last.routes, routeKey, sameRoute);
  const [wantReply, haveReply] = dropShared(desired.replyRoutes, last.replyRoutes, routeKey, sameRoute);
  const [wantNeigh, haveNeigh] = dropShared(desired.neighbours, last.neighbours, neighKey, sameNeigh);
  const [wantFdb, haveFdb] = dropShared(desired.fdb, last.fdb, fdbKey, sameFdb);
  return planDatapath(
    { ...desired, routes: wantRoutes, replyRoutes: wantReply, neighbours: wantNeigh, fdb: wantFdb },
    { ...last, routes: haveRoutes, replyRoutes: haveReply, neighbours: haveNeigh, fdb: haveFdb },
  );
}
