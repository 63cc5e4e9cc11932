import { parseCidr } from '../../../common/cidr.js';
import { errorMessage } from '../../../common/errors.js';
import type { IpFamily } from '../../../common/ip.js';
import { type IpPrefix, parseIpPrefix } from '../../../common/ip-prefix.js';
import { CidrIndex, IpPrefixIndex } from './cidr-index.js';
import { ownUnderlayText, underlayFamilyOf } from './own-node.js';
import type { PeerFacts } from './peer-facts.js';
import {
  byText,
  checkPeer,
  checkPeer6,
  findClash,
  findClash6,
  ipv6LeftOut,
  type OwnIpv6,
  PeerKeyError,
  subnets6Of,
} from './peer-routes.js';
import type { KeylessPeer, SkippedPeer, UnderlayFacts } from './state.js';
import type { DatapathConfig, PeerNode, PeerRoute, SelfNode } from './types.js';
import { vtepMac } from './vtep.js';

/**
 * Which peers desired() routes, by which kind per family, and why the others are left out.
 * Pure. On an IPv6-only node (ADR 19) a peer's IPv6 podCIDRs are its only ones: a reason to
 * leave them out leaves the whole peer out.
 */

export interface PeerPlan {
  readonly peer: PeerNode;
  readonly facts: PeerFacts;
  /** The IPv4 podCIDRs' route kind; undefined = none (an IPv6-only node's peers have none). */
  readonly route: PeerRoute | undefined;
  /** The IPv6 podCIDRs' route kind; undefined = none (the peer or this node has none, or left out). */
  readonly route6: PeerRoute | undefined;
}

/** What selectPeers found. */
export interface PeerSelection {
  readonly usable: PeerPlan[];
  readonly skipped: SkippedPeer[];
  readonly keyless: KeylessPeer[];
}

/** What the IPv6 part of a peer is judged by; `taken6` grows as peers are accepted. */
interface Ipv6Context {
  readonly taken6: IpPrefixIndex;
  readonly own6: OwnIpv6;
  readonly config: DatapathConfig;
  readonly underlay: UnderlayFacts;
  readonly subnets6: readonly IpPrefix[];
}

const familyName = (f: IpFamily) => (f === 4 ? 'IPv4' : 'IPv6');

/** Throws when the peer's underlay family is not ours: mixed clusters are not supported (ADR 19). */
export function checkFamily(family: IpFamily, facts: PeerFacts): void {
  if (facts.family === family) return;
  throw new Error(
    `underlay family differs: its underlayIP is ${familyName(facts.family)}, ours ${familyName(family)} ` +
      '(IPv6-only and IPv4-underlay nodes in one cluster are not supported)',
  );
}

/**
 * The VTEP MACs of the tunnel peers of an IPv6-only node, by MAC → underlay address. An IPv6
 * address is folded into the MAC's four bytes, so two nodes can share one MAC; the later peer
 * (by name) is refused, and a peer that folds to our own MAC too.
 */
export class VtepIndex {
  readonly #byMac = new Map<string, string>();
  readonly #owner = new Map<string, string>();

  constructor(self: SelfNode) {
    const local = ownUnderlayText(self);
    this.#byMac.set(vtepMac(local), local);
    this.#owner.set(vtepMac(local), 'this node');
  }

  /** Throws an Error naming the node whose MAC `facts` folds to (a different address). */
  check(facts: PeerFacts): void {
    const have = this.#byMac.get(facts.mac);
    if (have === undefined || have === facts.endpoint) return;
    throw new Error(
      `VTEP MAC ${facts.mac} folded from underlayIP ${facts.endpoint} collides with ` +
        `${this.#owner.get(facts.mac)} (${have}); ADR 19`,
    );
  }

  add(name: string, facts: PeerFacts): void {
    this.#byMac.set(facts.mac, facts.endpoint);
    this.#owner.set(facts.mac, `node ${name}`);
  }
}

/** Validates peers; returns the usable ones and the reasons for the others (sorted by peer). */
export function selectPeers(
  self: SelfNode,
  own: readonly string[],
  own6: OwnIpv6,
  peers: readonly PeerNode[],
  config: DatapathConfig,
  underlay: UnderlayFacts,
  factsOf: (peer: PeerNode) => PeerFacts,
): PeerSelection {
  const out: PeerSelection = { usable: [], skipped: [], keyless: [] };
  const taken = new CidrIndex();
  for (const c of own) taken.add(parseCidr(c));
  const taken6 = new IpPrefixIndex();
  for (const c of own6.podCIDRs) taken6.add(parseIpPrefix(c));
  const subnets = underlay.subnets.map((s) => parseCidr(s, false));
  const subnets6 = subnets6Of(underlay);
  const family = underlayFamilyOf(self);
  const vteps = family === 6 ? new VtepIndex(self) : undefined;
  const v6: Ipv6Context = { taken6, own6, config, underlay, subnets6 };
  for (const peer of [...peers].sort((a, b) => byText(a.name, b.name))) {
    if (peer.name === self.name) continue;
    let facts: PeerFacts;
    let route: PeerRoute | undefined;
    let route6: PeerRoute | undefined;
    try {
      if (peer.underlayIP === self.underlayIP) throw new Error('underlayIP is our own');
      facts = factsOf(peer);
      checkFamily(family, facts);
      if (vteps) {
        route6 = selectIpv6Only(v6, vteps, peer, facts);
      } else {
        const clash = findClash(taken, facts.cidrs);
        if (clash) throw new Error(clash);
        route = checkPeer(self, peer, facts, config, underlay, subnets);
        for (const c of facts.cidrs) taken.add(c);
      }
    } catch (err) {
      out.skipped.push({ peer: peer.name, reason: errorMessage(err) });
      if (err instanceof PeerKeyError) out.keyless.push({ peer: peer.name, reason: err.reason });
      continue;
    }
    if (!vteps && own6.podCIDRs.length > 0 && facts.cidrs6.length > 0)
      route6 = selectIpv6(out, v6, peer, facts);
    out.usable.push({ peer, facts, route, route6 });
  }
  return out;
}

/**
 * The route kind of an IPv6-only peer (its IPv6 podCIDRs are all it has), or throws why it is
 * left out: no path (checkPeer6), an overlap, or a VTEP MAC clash (tunnel peers only).
 */
function selectIpv6Only(v6: Ipv6Context, vteps: VtepIndex, peer: PeerNode, facts: PeerFacts): PeerRoute {
  const { taken6 } = v6;
  const route6 = checkPeer6(v6.own6, peer, facts, v6.config, v6.underlay, v6.subnets6);
  const clash = findClash6(taken6, facts.cidrs6);
  if (clash) throw new Error(clash);
  if (route6 === 'vxlan') vteps.check(facts);
  for (const c of facts.cidrs6) taken6.add(c);
  if (route6 === 'vxlan') vteps.add(peer.name, facts);
  return route6;
}

/**
 * A usable peer's IPv6 route kind, or undefined with a family-6 skip recorded. The route kind
 * is decided before the overlap check, so a skip for want of a path never depends on other
 * peers (desired-incremental relies on it); a left-out peer's IPv6 podCIDRs claim nothing.
 */
function selectIpv6(
  out: PeerSelection,
  v6: Ipv6Context,
  peer: PeerNode,
  facts: PeerFacts,
): PeerRoute | undefined {
  const { taken6 } = v6;
  let route6: PeerRoute;
  try {
    route6 = checkPeer6(v6.own6, peer, facts, v6.config, v6.underlay, v6.subnets6);
  } catch (err) {
    out.skipped.push({ peer: peer.name, family: 6, reason: ipv6LeftOut(errorMessage(err)) });
    if (err instanceof PeerKeyError) out.keyless.push({ peer: peer.name, reason: err.reason });
    return undefined;
  }
  const clash = findClash6(taken6, facts.cidrs6);
  if (clash) {
    out.skipped.push({ peer: peer.name, family: 6, reason: ipv6LeftOut(clash) });
    return undefined;
  }
  for (const c of facts.cidrs6) taken6.add(c);
  return route6;
}
