import { planNft } from './nft-plan.js';
import type {
  BridgeState,
  DatapathState,
  DesiredDatapath,
  FdbState,
  IpRuleState,
  NeighState,
  RouteState,
  VxlanState,
} from './state.js';
import { REPLY_TABLE, sameRule } from './tunnel-reply.js';

/** One change to the kernel. Plans list them in the order they must run. */
export type PlanOp =
  | { readonly op: 'link-del'; readonly name: string }
  | { readonly op: 'bridge-add'; readonly name: string; readonly mtu: number; readonly mac: string }
  | { readonly op: 'link-mac'; readonly name: string; readonly mac: string }
  | { readonly op: 'vxlan-add'; readonly vxlan: VxlanState }
  | { readonly op: 'link-mtu'; readonly name: string; readonly mtu: number }
  | { readonly op: 'link-up'; readonly name: string }
  | { readonly op: 'addr-del' | 'addr-add'; readonly dev: string; readonly cidr: string }
  /** `table` absent = the main table. */
  | {
      readonly op: 'route-del' | 'route-add' | 'route-replace';
      readonly route: RouteState;
      readonly table?: number;
    }
  | { readonly op: 'rule-add' | 'rule-del'; readonly rule: IpRuleState }
  | { readonly op: 'neigh-del' | 'neigh-replace'; readonly neigh: NeighState }
  | { readonly op: 'fdb-del' | 'fdb-replace'; readonly fdb: FdbState }
  | { readonly op: 'sysctl'; readonly key: string; readonly value: string }
  | { readonly op: 'nft-replace'; readonly script: string }
  /** Element and chain updates of table inet weft; `fallback` (a full rewrite) runs when they fail. */
  | { readonly op: 'nft-update'; readonly script: string; readonly fallback: string | undefined };

/** Ops grouped by stage; a plan is the stages concatenated in this order. */
interface Buckets {
  linkDel: PlanOp[];
  linkAdd: PlanOp[];
  linkSet: PlanOp[];
  addrDel: PlanOp[];
  addrAdd: PlanOp[];
  routeDel: PlanOp[];
  entryDel: PlanOp[];
  entrySet: PlanOp[];
  fdbDel: PlanOp[];
  fdbSet: PlanOp[];
  tail: PlanOp[];
}

function planAddresses(b: Buckets, dev: string, want: readonly string[], have: readonly string[]): void {
  for (const cidr of want) if (!have.includes(cidr)) b.addrAdd.push({ op: 'addr-add', dev, cidr });
  for (const cidr of have) if (!want.includes(cidr)) b.addrDel.push({ op: 'addr-del', dev, cidr });
}

function planBridge(b: Buckets, want: BridgeState | undefined, have: BridgeState | undefined): void {
  if (!want) {
    if (have) b.linkDel.push({ op: 'link-del', name: have.name });
    return;
  }
  if (!have || have.kind !== want.kind) {
    if (have) b.linkDel.push({ op: 'link-del', name: have.name });
    b.linkAdd.push({ op: 'bridge-add', name: want.name, mtu: want.mtu, mac: want.mac });
    b.linkSet.push({ op: 'link-up', name: want.name });
    planAddresses(b, want.name, want.addresses, []);
    return;
  }
  if (have.mac !== want.mac) b.linkSet.push({ op: 'link-mac', name: want.name, mac: want.mac });
  if (have.mtu !== want.mtu) b.linkSet.push({ op: 'link-mtu', name: want.name, mtu: want.mtu });
  if (!have.up) b.linkSet.push({ op: 'link-up', name: want.name });
  planAddresses(b, want.name, want.addresses, have.addresses);
}

/** Properties that can only be set when the device is created. */
const vxlanIdentity = (v: VxlanState) => [v.kind, v.vni, v.port, v.local, v.dev, v.mac, v.learning].join('|');

/** Returns true when the observed device goes away (deleted or recreated), taking its entries with it. */
function planVxlan(b: Buckets, want: VxlanState | undefined, have: VxlanState | undefined): boolean {
  if (!want) {
    if (have) b.linkDel.push({ op: 'link-del', name: have.name });
    return have !== undefined;
  }
  if (!have || vxlanIdentity(have) !== vxlanIdentity(want)) {
    if (have) b.linkDel.push({ op: 'link-del', name: have.name });
    b.linkAdd.push({ op: 'vxlan-add', vxlan: want });
    b.linkSet.push({ op: 'link-up', name: want.name });
    planAddresses(b, want.name, want.addresses, []);
    return have !== undefined;
  }
  if (have.mtu !== want.mtu) b.linkSet.push({ op: 'link-mtu', name: want.name, mtu: want.mtu });
  if (!have.up) b.linkSet.push({ op: 'link-up', name: want.name });
  planAddresses(b, want.name, want.addresses, have.addresses);
  return false;
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = m.get(k);
    if (list) list.push(item);
    else m.set(k, [item]);
  }
  return m;
}

const sameRoute = (a: RouteState, b: RouteState) =>
  a.dst === b.dst &&
  a.gateway === b.gateway &&
  a.dev === b.dev &&
  a.onlink === b.onlink &&
  a.metric === b.metric;

/**
 * IPv6 checks an onlink gateway against the table: a route that covers it through another
 * device — the very route being replaced, e.g. direct via the underlay — fails the replace
 * ("Nexthop has invalid gateway or device mismatch"). Such a route is deleted and the new one
 * added instead (the delete runs first, in the same batch).
 */
const replaceRefused = (have: RouteState, want: RouteState): boolean =>
  want.onlink && want.dst.includes(':') && have.dev !== want.dev;

function planRoutes(
  b: Buckets,
  want: readonly RouteState[],
  have: readonly RouteState[],
  table?: number,
): void {
  const op = (kind: 'route-del' | 'route-add' | 'route-replace', route: RouteState): PlanOp =>
    table === undefined ? { op: kind, route } : { op: kind, route, table };
  const byDst = groupBy(have, (r) => r.dst);
  for (const d of want) {
    const group = byDst.get(d.dst) ?? [];
    byDst.delete(d.dst);
    let keep = group.find((r) => sameRoute(r, d)) ?? group.find((r) => r.metric === d.metric);
    if (keep && !sameRoute(keep, d) && replaceRefused(keep, d)) keep = undefined;
    if (!keep) b.entrySet.push(op('route-add', d));
    else if (!sameRoute(keep, d)) b.entrySet.push(op('route-replace', d));
    for (const r of group) if (r !== keep) b.routeDel.push(op('route-del', r));
  }
  for (const stale of byDst.values()) for (const r of stale) b.routeDel.push(op('route-del', r));
}

/** Weft's rules: a missing one added (after the routes it leads to), a stale one removed, a present one left. */
function planRules(b: Buckets, want: readonly IpRuleState[], have: readonly IpRuleState[]): void {
  for (const r of have) if (!want.some((w) => sameRule(w, r))) b.routeDel.push({ op: 'rule-del', rule: r });
  for (const w of want) if (!have.some((r) => sameRule(w, r))) b.entrySet.push({ op: 'rule-add', rule: w });
}

function planNeighbours(b: Buckets, want: readonly NeighState[], have: readonly NeighState[]): void {
  const current = new Map(have.map((n) => [n.ip, n]));
  for (const d of want) {
    if (current.get(d.ip)?.mac !== d.mac) b.entrySet.push({ op: 'neigh-replace', neigh: d });
    current.delete(d.ip);
  }
  for (const n of current.values()) b.entryDel.push({ op: 'neigh-del', neigh: n });
}

function planFdb(b: Buckets, want: readonly FdbState[], have: readonly FdbState[]): void {
  const byMac = groupBy(have, (f) => f.mac);
  for (const d of want) {
    const group = byMac.get(d.mac) ?? [];
    byMac.delete(d.mac);
    const exact = group.find((f) => f.dst === d.dst);
    if (exact) {
      for (const f of group) if (f !== exact) b.fdbDel.push({ op: 'fdb-del', fdb: f });
      continue;
    }
    // `fdb replace` rewrites a single remote; several remotes for one MAC are removed first.
    if (group.length > 1) for (const f of group) b.fdbDel.push({ op: 'fdb-del', fdb: f });
    b.fdbSet.push({ op: 'fdb-replace', fdb: d });
  }
  for (const stale of byMac.values()) for (const f of stale) b.fdbDel.push({ op: 'fdb-del', fdb: f });
}

/**
 * The changes that turn `observed` into `desired`. Pure. Empty when the kernel
 * already matches. Only entries present in `observed` can be deleted, and observe
 * reads only what Weft owns, so foreign routes are never touched. Order: devices,
 * addresses, stale entries and rules out, neighbours, routes and rules in, FDB,
 * sysctls, nftables.
 */
export function planDatapath(desired: DesiredDatapath, observed: DatapathState): PlanOp[] {
  const b: Buckets = {
    linkDel: [],
    linkAdd: [],
    linkSet: [],
    addrDel: [],
    addrAdd: [],
    routeDel: [],
    entryDel: [],
    entrySet: [],
    fdbDel: [],
    fdbSet: [],
    tail: [],
  };
  planBridge(b, desired.bridge, observed.bridge);
  const vxlanGone = planVxlan(b, desired.vxlan, observed.vxlan);
  const vxlanName = observed.vxlan?.name;
  // Routes through a device that goes away go with it.
  const live = (routes: readonly RouteState[]) =>
    vxlanGone ? routes.filter((r) => r.dev !== vxlanName) : routes;
  // Neighbours before routes: a new VXLAN route finds its gateway's MAC at once.
  planNeighbours(b, desired.neighbours, vxlanGone ? [] : observed.neighbours);
  planRoutes(b, desired.routes, live(observed.routes));
  planRoutes(b, desired.replyRoutes, live(observed.replyRoutes), REPLY_TABLE);
  planRules(b, desired.rules, observed.rules);
  planFdb(b, desired.fdb, vxlanGone ? [] : observed.fdb);
  // A recreated device starts with the defaults of its per-device sysctls.
  const reset = vxlanGone && vxlanName !== undefined ? `net/ipv4/conf/${vxlanName}/` : undefined;
  for (const [key, value] of desired.sysctls) {
    const stale = reset !== undefined && key.startsWith(reset);
    if (stale || observed.sysctls.get(key) !== value) b.tail.push({ op: 'sysctl', key, value });
  }
  const nft = desired.nft && planNft(desired.nft, desired.nftRules, observed.nft, desired.policyPending);
  if (nft?.kind === 'replace') b.tail.push({ op: 'nft-replace', script: nft.script });
  if (nft?.kind === 'update') b.tail.push({ op: 'nft-update', script: nft.script, fallback: nft.fallback });
  return [
    ...b.linkDel,
    ...b.linkAdd,
    ...b.linkSet,
    // Add before delete: a device that loses its last IPv4 address loses its routes too.
    ...b.addrAdd,
    ...b.addrDel,
    ...b.routeDel,
    ...b.entryDel,
    ...b.entrySet,
    ...b.fdbDel,
    ...b.fdbSet,
    ...b.tail,
  ];
}
