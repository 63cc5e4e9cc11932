import { cidrContains, formatCidr, type Ipv4Cidr } from '../../../common/cidr.js';
import type { IpAddress } from '../../../common/ip.js';
import { formatIpPrefix, type IpPrefix, parseIpPrefix, prefixContains } from '../../../common/ip-prefix.js';
import type { WgPeerInput } from '../wireguard/desired.js';
import { isWireguardKey } from '../wireguard/keys.js';
import type { CidrIndex, IpPrefixIndex } from './cidr-index.js';
import type { PeerFacts } from './peer-facts.js';
import type { FdbState, NeighState, RouteState, UnderlayFacts } from './state.js';
import { replyRoute } from './tunnel-reply.js';
import type { Backend, DatapathConfig, Encryption, PeerNode, PeerRoute, SelfNode } from './types.js';

/**
 * Per peer and family: which route kind, or why it is left out, and the kernel entries that
 * follow (routes, neighbours, FDB entries, reply routes). Pure; desired.ts and
 * desired-incremental.ts share it so that a patched result equals a full one.
 */

/** The metric the kernel gives an IPv6 route added without one (IP6_RT_PRIO_USER); IPv4's is 0. */
export const IPV6_ROUTE_METRIC = 1024;

/** Plain code-unit order: deterministic and far cheaper than localeCompare for thousands of entries. */
export const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The route kind for a peer: hostgw always direct, vxlan always VXLAN; auto direct when the
 * peer's underlay IP lies in a directly connected subnet, else the tunnel — WireGuard when
 * encryption is on (for `all`, every peer). The same rule for each family.
 */
export function routeKindOf(backend: Backend, encryption: Encryption, direct: boolean): PeerRoute {
  if (encryption === 'all' || backend === 'wireguard') return 'wireguard';
  if (backend === 'hostgw') return 'direct';
  if (backend === 'vxlan') return 'vxlan';
  if (direct) return 'direct';
  return encryption === 'crossSubnet' ? 'wireguard' : 'vxlan';
}

/** This node's IPv6 side: its IPv6 podCIDRs (canonical) and IPv6 InternalIP, if any. */
export interface OwnIpv6 {
  readonly podCIDRs: readonly string[];
  readonly ip: IpAddress | undefined;
}

/** The directly connected IPv6 subnets of the underlay, parsed. */
export const subnets6Of = (underlay: UnderlayFacts): IpPrefix[] =>
  (underlay.subnets6 ?? []).map((s) => parseIpPrefix(s, { strict: false }));

/** A peer to be reached through WireGuard that has published no usable key. */
export class PeerKeyError extends Error {
  constructor(readonly reason: 'no-key' | 'bad-key') {
    super(
      reason === 'no-key'
        ? 'no WireGuard public key published (not reached: traffic to it is dropped, not sent in clear)'
        : 'its WireGuard public key is malformed (not reached: traffic to it is dropped)',
    );
  }
}

/** A route kind that needs a key the peer lacks: throws PeerKeyError. */
function requireKey(route: PeerRoute, peer: PeerNode): PeerRoute {
  // Never in clear text instead (issue 16): the cluster routes lead into the device, which drops it.
  if (route === 'wireguard' && !isWireguardKey(peer.wgPublicKey)) {
    throw new PeerKeyError(peer.wgPublicKey === undefined ? 'no-key' : 'bad-key');
  }
  return route;
}

/**
 * The route kind for a peer's IPv4 podCIDRs, or throws an Error saying why the peer is
 * unusable (everything but podCIDR overlaps, which depend on the other peers).
 */
export function checkPeer(
  self: SelfNode,
  peer: PeerNode,
  facts: PeerFacts,
  config: DatapathConfig,
  underlay: UnderlayFacts,
  subnets: readonly Ipv4Cidr[],
): PeerRoute {
  if (peer.underlayIP === self.underlayIP) throw new Error('underlayIP is our own');
  const direct = subnets.some((s) => cidrContains(s, facts.ip));
  if (config.backend === 'hostgw' && !direct) {
    throw new Error(`underlayIP not on a directly connected subnet of ${underlay.iface} (backend hostgw)`);
  }
  return requireKey(routeKindOf(config.backend, config.encryption, direct), peer);
}

/**
 * The route kind for a peer's IPv6 podCIDRs (ADR 18), or throws an Error saying why they are
 * left out. Depends on the peer alone: direct when both nodes have an IPv6 InternalIP and the
 * peer's lies in a directly connected IPv6 subnet of the underlay interface; otherwise the
 * tunnel, which backend hostgw does not have.
 */
export function checkPeer6(
  own: OwnIpv6,
  peer: PeerNode,
  facts: PeerFacts,
  config: DatapathConfig,
  underlay: UnderlayFacts,
  subnets6: readonly IpPrefix[],
): PeerRoute {
  const ip = facts.ip6;
  const why =
    own.ip === undefined
      ? 'this node has no IPv6 InternalIP'
      : ip === undefined
        ? 'no IPv6 InternalIP (underlayIP6)'
        : ip.value === own.ip.value
          ? 'underlayIP6 is our own'
          : subnets6.some((s) => prefixContains(s, ip))
            ? undefined
            : `underlayIP6 not on a directly connected IPv6 subnet of ${underlay.iface}`;
  if (config.backend === 'hostgw' && why !== undefined) {
    throw new Error(`${why} (backend hostgw has no tunnel for IPv6)`);
  }
  return requireKey(routeKindOf(config.backend, config.encryption, why === undefined), peer);
}

/** A podCIDR of `cidrs` that overlaps one in `taken`, as an Error message, or undefined. */
export function findClash(taken: CidrIndex, cidrs: readonly Ipv4Cidr[]): string | undefined {
  for (const c of cidrs) {
    const clash = taken.findOverlap(c);
    if (clash) return `podCIDR ${formatCidr(c)} overlaps ${formatCidr(clash)} of another node`;
  }
  return undefined;
}

/** findClash for IPv6 podCIDRs. */
export function findClash6(taken: IpPrefixIndex, cidrs: readonly IpPrefix[]): string | undefined {
  for (const c of cidrs) {
    const clash = taken.findOverlap(c);
    if (clash) return `podCIDR ${formatIpPrefix(c)} overlaps ${formatIpPrefix(clash)} of another node`;
  }
  return undefined;
}

/** The reason text of a family-6 skip. */
export const ipv6LeftOut = (reason: string): string => `IPv6 podCIDRs left out: ${reason}`;

/**
 * One peer's kernel entries: its routes, and for VXLAN its neighbours, FDB entry
 * (keyed by MAC) and reply-table route (keyed by destination; the first peer
 * with an underlay IP gives it its gateway).
 */
export interface PeerEntries {
  readonly routes: RouteState[];
  readonly neighbours: NeighState[];
  readonly fdb: Map<string, FdbState>;
  readonly replyRoutes: Map<string, RouteState>;
}

export const emptyPeerEntries = (): PeerEntries => ({
  routes: [],
  neighbours: [],
  fdb: new Map(),
  replyRoutes: new Map(),
});

/** The entries of one family's podCIDRs (`dsts`, their VXLAN gateways `gateways`) for a route kind. */
function pushFamilyEntries(
  out: PeerEntries,
  facts: PeerFacts,
  family: { dsts: readonly string[]; gateways: readonly string[]; next: string; metric: number },
  route: PeerRoute,
  config: DatapathConfig,
  underlay: UnderlayFacts,
): void {
  const { dsts, gateways, next, metric } = family;
  for (let i = 0; i < dsts.length; i++) {
    const dst = dsts[i] as string;
    if (route === 'direct') {
      out.routes.push({ dst, gateway: next, dev: underlay.iface, onlink: false, metric });
      continue;
    }
    if (route === 'wireguard') {
      // A layer-3 device: no gateway; WireGuard picks the peer by the destination (allowed IPs).
      out.routes.push({ dst, gateway: '', dev: config.wireguardName, onlink: false, metric });
      continue;
    }
    const gw = gateways[i] as string;
    out.routes.push({ dst, gateway: gw, dev: config.vxlanName, onlink: true, metric });
    out.neighbours.push({ dev: config.vxlanName, ip: gw, mac: facts.mac });
    out.fdb.set(facts.mac, { dev: config.vxlanName, mac: facts.mac, dst: facts.endpoint });
  }
}

/**
 * A peer's entries: IPv4 podCIDRs by `route`, IPv6 ones by `route6` (undefined = none). Both
 * families share the VXLAN device and so the peer's FDB entry; IPv6 frames ride the IPv4
 * tunnel (on an IPv6-only node, an IPv6 one). Reply routes (ADR 14) follow the IPv4 route
 * kind only.
 */
export function pushPeerEntries(
  out: PeerEntries,
  peer: PeerNode,
  facts: PeerFacts,
  route: PeerRoute | undefined,
  route6: PeerRoute | undefined,
  config: DatapathConfig,
  underlay: UnderlayFacts,
): void {
  const { dsts, gateways } = facts;
  if (route !== undefined) {
    const v4 = { dsts, gateways, next: peer.underlayIP, metric: 0 };
    pushFamilyEntries(out, facts, v4, route, config, underlay);
  }
  if (route6 !== undefined) {
    const v6 = {
      dsts: facts.dsts6,
      gateways: facts.gateways6,
      next: facts.gateway6 ?? '',
      metric: IPV6_ROUTE_METRIC,
    };
    pushFamilyEntries(out, facts, v6, route6, config, underlay);
  }
  const gw = gateways[0];
  if (route === 'vxlan' && gw !== undefined) {
    const reply = replyRoute(peer.underlayIP, gw, config.vxlanName);
    if (!out.replyRoutes.has(reply.dst)) out.replyRoutes.set(reply.dst, reply);
  } else if (route === 'wireguard') {
    const reply = replyRoute(peer.underlayIP, '', config.wireguardName);
    if (!out.replyRoutes.has(reply.dst)) out.replyRoutes.set(reply.dst, reply);
  }
}

/**
 * One peer of the WireGuard device (a family of it is routed through it). Allowed IPs: the
 * podCIDRs routed there and, with IPv4 through it, the node IP (/32): node-IP-sourced
 * connections keep their source over the tunnel, as over VXLAN (ADR 14; IPv4 only).
 */
export function wireguardPeerOf(
  peer: PeerNode,
  facts: PeerFacts,
  route: PeerRoute | undefined,
  route6: PeerRoute | undefined,
): WgPeerInput {
  const v4 = route === 'wireguard' ? [...facts.dsts, `${peer.underlayIP}/32`] : [];
  return {
    name: peer.name,
    underlayIP: facts.endpoint,
    allowedIPs: route6 === 'wireguard' ? [...v4, ...facts.dsts6] : v4,
    publicKey: peer.wgPublicKey,
  };
}

/** Whether a peer plan is a WireGuard peer (either family through the device). */
export const throughWireguard = (route: PeerRoute | undefined, route6: PeerRoute | undefined): boolean =>
  route === 'wireguard' || route6 === 'wireguard';
