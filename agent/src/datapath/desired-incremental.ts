import { parseCidr } from '../../../common/cidr.js';
import { errorMessage } from '../../../common/errors.js';
import { parseIpPrefix } from '../../../common/ip-prefix.js';
import { CidrIndex, IpPrefixIndex } from './cidr-index.js';
import { desiredDatapath } from './desired.js';
import { ownIpv6, ownPodCIDRs, ownUnderlayText, underlayFamilyOf } from './own-node.js';
import { type PeerFacts, PeerFactsCache } from './peer-facts.js';
import {
  byText,
  checkPeer,
  checkPeer6,
  emptyPeerEntries,
  findClash,
  findClash6,
  ipv6LeftOut,
  type OwnIpv6,
  type PeerEntries,
  PeerKeyError,
  pushPeerEntries,
  subnets6Of,
  throughWireguard,
  wireguardPeerOf,
} from './peer-routes.js';
import { checkFamily } from './peer-select.js';
import { diffPeerLists, patchSorted } from './sorted-patch.js';
import type {
  DesiredDatapath,
  DesiredWireguardPeers,
  FdbState,
  NeighState,
  RouteState,
  SkippedPeer,
  UnderlayFacts,
} from './state.js';
import type { DatapathConfig, PeerNode, PeerRoute, SelfNode } from './types.js';
import { vtepMac } from './vtep.js';

/**
 * What the last result was computed from, kept only while every peer was usable — but for
 * IPv6 podCIDRs left out for want of a path (backend hostgw), which depends on the peer alone.
 */
interface Basis {
  readonly inputs: string;
  readonly result: DesiredDatapath;
  /** The peer list the result was computed from. */
  readonly peers: readonly PeerNode[];
  /** Every peer but self, by name. */
  readonly byName: Map<string, PeerNode>;
  /** Own podCIDRs and every peer's: with no peer skipped, no two of them overlap. */
  readonly taken: CidrIndex;
  /** The same for the IPv6 podCIDRs that are routed (own, and every peer's with a route kind). */
  readonly taken6: IpPrefixIndex;
  /** Tunnel peers (either family) per VTEP MAC (two peers may share an underlay IP, hence a MAC). */
  readonly macUsers: Map<string, number>;
}

/** A peer whose entries hang on its MAC: its FDB entry (VXLAN) or its reply route (IPv4 tunnelled). */
const tunnelled = (route: PeerRoute | undefined) => route !== undefined && route !== 'direct';
const usesMac = (route: PeerRoute | undefined, route6: PeerRoute | undefined) =>
  tunnelled(route) || tunnelled(route6);

/**
 * desiredDatapath with memory: when the node, the config and the underlay are
 * unchanged and a handful of peers were added, replaced or removed, it patches
 * the previous result (same value as a full computation) instead of re-deriving
 * and re-sorting thousands of entries. It patches only while no peer is skipped
 * (then no podCIDRs overlap and order does not matter); anything else — a new
 * peer that would be skipped, many changes, other inputs — takes the full path.
 * Peer objects must not be mutated (the PeerStore replaces them).
 */
export class IncrementalDesired {
  /** How many results were patched rather than computed in full (for tests and benchmarks). */
  patchedCount = 0;
  private basis: Basis | undefined;
  private readonly facts = new PeerFactsCache();

  compute(
    self: SelfNode,
    peers: readonly PeerNode[],
    config: DatapathConfig,
    underlay: UnderlayFacts,
  ): DesiredDatapath {
    const inputs = JSON.stringify([self, config, underlay]);
    const basis = this.basis;
    this.basis = undefined;
    const patched = basis?.inputs === inputs ? this.patch(basis, peers, self, config, underlay) : undefined;
    if (patched) return patched;
    const byName = new Map<string, PeerNode>();
    let unique = true;
    for (const p of peers) {
      if (p.name === self.name) continue;
      if (byName.has(p.name)) unique = false;
      byName.set(p.name, p);
    }
    const result = desiredDatapath(self, peers, config, underlay, this.facts);
    if (unique && this.patchable(result, byName, self, config, underlay))
      this.basis = this.rebuild(inputs, result, peers, byName, self);
    return result;
  }

  /**
   * Whether a result can be patched later: no peer left out but for an IPv6 part left out for
   * a reason of its own (checkPeer6 refuses it; not an overlap, not a missing key).
   */
  private patchable(
    result: DesiredDatapath,
    byName: ReadonlyMap<string, PeerNode>,
    self: SelfNode,
    config: DatapathConfig,
    underlay: UnderlayFacts,
  ): boolean {
    if (result.skipped.length === 0) return true;
    if ((result.wireguard?.keyless.length ?? 0) > 0) return false;
    const own6 = ownIpv6(self);
    const subnets6 = subnets6Of(underlay);
    return result.skipped.every((s) => {
      const peer = byName.get(s.peer);
      if (s.family !== 6 || peer === undefined) return false;
      try {
        checkPeer6(own6, peer, this.facts.get(peer), config, underlay, subnets6);
        return false;
      } catch {
        return true;
      }
    });
  }

  private rebuild(
    inputs: string,
    result: DesiredDatapath,
    peers: readonly PeerNode[],
    byName: Map<string, PeerNode>,
    self: SelfNode,
  ): Basis {
    const taken = new CidrIndex();
    for (const c of ownPodCIDRs(self)) taken.add(parseCidr(c));
    const taken6 = new IpPrefixIndex();
    for (const c of ownIpv6(self).podCIDRs) taken6.add(parseIpPrefix(c));
    const macUsers = new Map<string, number>();
    for (const peer of byName.values()) {
      const facts = this.facts.get(peer);
      for (const c of facts.cidrs) taken.add(c);
      const route6 = result.peerRoutes6.get(peer.name);
      if (route6 !== undefined) for (const c of facts.cidrs6) taken6.add(c);
      // Tunnel peers (VXLAN or WireGuard) share a reply route per underlay IP (its MAC for VXLAN).
      if (usesMac(result.peerRoutes.get(peer.name), route6))
        macUsers.set(facts.mac, (macUsers.get(facts.mac) ?? 0) + 1);
    }
    return { inputs, result, peers: peers.slice(), byName, taken, taken6, macUsers };
  }

  /**
   * The patched result (and the new basis), or undefined when the full path must
   * run. The basis is this call's alone: it is updated in place, and dropped by
   * the caller when this returns undefined.
   */
  private patch(
    basis: Basis,
    peers: readonly PeerNode[],
    self: SelfNode,
    config: DatapathConfig,
    underlay: UnderlayFacts,
  ): DesiredDatapath | undefined {
    const changed = diffPeerLists(basis.peers, peers);
    if (!changed) return undefined;
    const mine = (p: PeerNode) => p.name !== self.name;
    const gone = changed.gone.filter(mine);
    const come = changed.come.filter(mine);
    const { byName } = basis;
    for (const peer of gone) byName.delete(peer.name);
    for (const peer of come) {
      // A name twice in the new list: desired() decides which one counts.
      if (byName.has(peer.name)) return undefined;
      byName.set(peer.name, peer);
    }
    const { result, taken, taken6, macUsers } = basis;
    const removed: PeerEntries = emptyPeerEntries();
    const peerRoutes = new Map(result.peerRoutes);
    const peerRoutes6 = new Map(result.peerRoutes6);
    const removedFdb = new Set<string>();
    for (const peer of gone) {
      const facts = this.facts.get(peer);
      const route = result.peerRoutes.get(peer.name);
      const route6 = result.peerRoutes6.get(peer.name);
      pushPeerEntries(removed, peer, facts, route, route6, config, underlay);
      for (const c of facts.cidrs) taken.delete(c);
      if (route6 !== undefined) for (const c of facts.cidrs6) taken6.delete(c);
      peerRoutes.delete(peer.name);
      peerRoutes6.delete(peer.name);
      // crossSubnet: the direct peers' podCIDRs are the clear-guard's sets (nft): the full path.
      if (config.encryption === 'crossSubnet' && (route === 'direct' || route6 === 'direct'))
        return undefined;
      if (!usesMac(route, route6)) continue;
      const users = (macUsers.get(facts.mac) ?? 0) - 1;
      // Another peer with this underlay IP stays: which one gives the reply route its gateway is desired()'s call.
      if (users > 0) return undefined;
      macUsers.delete(facts.mac);
      removedFdb.add(facts.mac);
    }
    const added: PeerEntries = emptyPeerEntries();
    const addedSkips: SkippedPeer[] = [];
    const subnets = underlay.subnets.map((s) => parseCidr(s, false));
    const own6 = ownIpv6(self);
    const subnets6 = subnets6Of(underlay);
    const family = underlayFamilyOf(self);
    const ownMac = vtepMac(ownUnderlayText(self));
    for (const peer of come) {
      let route: PeerRoute | undefined;
      let route6: PeerRoute | undefined;
      try {
        const facts = this.facts.get(peer);
        checkFamily(family, facts);
        if (family === 6) {
          // IPv6-only (ADR 19): any reason to leave the peer out, and a MAC shared with us, take the full path.
          route6 = checkPeer6(own6, peer, facts, config, underlay, subnets6);
          if (findClash6(taken6, facts.cidrs6) !== undefined || facts.mac === ownMac) return undefined;
        } else {
          if (findClash(taken, facts.cidrs) !== undefined) return undefined;
          route = checkPeer(self, peer, facts, config, underlay, subnets);
          const ipv6 = this.patchIpv6(own6, peer, facts, config, underlay, subnets6, taken6);
          if (ipv6 === undefined) return undefined;
          if (typeof ipv6 === 'object') addedSkips.push(ipv6);
          else route6 = ipv6 === 'none' ? undefined : ipv6;
        }
        if (config.encryption === 'crossSubnet' && (route === 'direct' || route6 === 'direct'))
          return undefined;
        for (const c of facts.cidrs) taken.add(c);
        if (route6 !== undefined) for (const c of facts.cidrs6) taken6.add(c);
        pushPeerEntries(added, peer, facts, route, route6, config, underlay);
        if (usesMac(route, route6)) {
          // A second peer with one underlay IP (one MAC): the full path orders them.
          if (macUsers.has(facts.mac)) return undefined;
          macUsers.set(facts.mac, 1);
        }
      } catch {
        return undefined;
      }
      if (route !== undefined) peerRoutes.set(peer.name, route);
      if (route6 !== undefined) peerRoutes6.set(peer.name, route6);
    }
    const next: DesiredDatapath = {
      ...result,
      routes: patchSorted(
        result.routes,
        removed.routes.map((r) => r.dst),
        added.routes,
        (r: RouteState) => r.dst,
      ),
      neighbours: patchSorted(
        result.neighbours,
        removed.neighbours.map((n) => n.ip),
        added.neighbours,
        (n: NeighState) => n.ip,
      ),
      fdb: patchSorted(result.fdb, removedFdb, [...added.fdb.values()], (f: FdbState) => f.mac),
      replyRoutes: patchSorted(
        result.replyRoutes,
        removed.replyRoutes.keys(),
        [...added.replyRoutes.values()],
        (r: RouteState) => r.dst,
      ),
      peerRoutes,
      peerRoutes6,
      skipped: patchSorted(
        result.skipped,
        gone.map((p) => p.name),
        addedSkips,
        (s: SkippedPeer) => s.peer,
      ),
      wireguard: patchWireguard(result.wireguard, gone, come, peerRoutes, peerRoutes6, (p) =>
        this.facts.get(p),
      ),
    };
    this.basis = { ...basis, result: next, peers: peers.slice() };
    this.patchedCount++;
    return next;
  }

  /**
   * A come peer's IPv6 part as selectPeers decides it: its route kind, 'none' (no IPv6 here),
   * a family-6 skip of its own, or undefined when only the full path can tell (an overlap, a
   * missing key: those depend on other peers or change the keyless list).
   */
  private patchIpv6(
    own6: OwnIpv6,
    peer: PeerNode,
    facts: PeerFacts,
    config: DatapathConfig,
    underlay: UnderlayFacts,
    subnets6: ReturnType<typeof subnets6Of>,
    taken6: IpPrefixIndex,
  ): PeerRoute | 'none' | SkippedPeer | undefined {
    if (own6.podCIDRs.length === 0 || facts.cidrs6.length === 0) return 'none';
    let route6: PeerRoute;
    try {
      route6 = checkPeer6(own6, peer, facts, config, underlay, subnets6);
    } catch (err) {
      if (err instanceof PeerKeyError) return undefined;
      return { peer: peer.name, family: 6, reason: ipv6LeftOut(errorMessage(err)) };
    }
    return findClash6(taken6, facts.cidrs6) === undefined ? route6 : undefined;
  }
}

/** The WireGuard peers of `prev` without the peers gone and with the tunnel peers come. */
function patchWireguard(
  prev: DesiredWireguardPeers | undefined,
  gone: readonly PeerNode[],
  come: readonly PeerNode[],
  peerRoutes: ReadonlyMap<string, PeerRoute>,
  peerRoutes6: ReadonlyMap<string, PeerRoute>,
  factsOf: (p: PeerNode) => PeerFacts,
): DesiredWireguardPeers | undefined {
  if (prev === undefined) return undefined;
  const goneNames = new Set(gone.map((p) => p.name));
  const peers = prev.peers.filter((p) => !goneNames.has(p.name));
  for (const p of come) {
    const route = peerRoutes.get(p.name);
    const route6 = peerRoutes6.get(p.name);
    if (throughWireguard(route, route6)) peers.push(wireguardPeerOf(p, factsOf(p), route, route6));
  }
  return { ...prev, peers: peers.sort((a, b) => byText(a.name, b.name)) };
}
