import { cidrContains, parseCidr, parseIpv4 } from '../../../common/cidr.js';
import type { IpFamily } from '../../../common/ip.js';
import { computeWgMtu } from '../wireguard/desired.js';
import { type HostInputs, hostNftInputs, hostSysctls } from './desired-host.js';
import { desiredNftTable, nftRuleTexts } from './nft-ruleset.js';
import { ownIpv6, ownPodCIDRs, ownUnderlayText, underlayFamilyOf } from './own-node.js';
import { computePeerFacts, type PeerFactsCache } from './peer-facts.js';
import {
  byText,
  emptyPeerEntries,
  IPV6_ROUTE_METRIC,
  pushPeerEntries,
  routeKindOf,
  throughWireguard,
  wireguardPeerOf,
} from './peer-routes.js';
import { type PeerPlan, selectPeers } from './peer-select.js';
import type {
  DesiredDatapath,
  DesiredWireguardPeers,
  KeylessPeer,
  RouteState,
  UnderlayFacts,
} from './state.js';
import { desiredReplyRule } from './tunnel-reply.js';
import type { Backend, DatapathConfig, Encryption, PeerNode, PeerRoute, SelfNode } from './types.js';
import { bridgeAddress, bridgeMac, canonicalCidr, vtepAddress, vtepMac } from './vtep.js';

export { BRIDGE_NF_CALL, BRIDGE_NF_CALL6, IP_FORWARD } from './desired-host.js';
export { ownIpv6, ownPodCIDRs, underlayFamilyOf } from './own-node.js';
export { byText } from './peer-routes.js';
/**
 * Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) headers = 50; with an outer IPv6
 * header (40, an IPv6-only node's tunnel, ADR 19) 70.
 */
export const VXLAN_OVERHEAD = { 4: 50, 6: 70 } as const;

/**
 * Pod MTU. An override wins. Otherwise hostgw uses the underlay MTU, and vxlan and
 * auto use underlay − 50 (an IPv6 underlay: − 70). Auto subtracts even while every peer is
 * direct: a pod's MTU is fixed when the pod is created, so an MTU that grew back when the last far
 * peer left (or shrank when one joined) would leave running pods with a size that
 * no longer fits the tunnel — silent drops for large packets. 50 bytes of the
 * direct path are the price of an MTU that never changes.
 */
export function computeMtu(
  backend: Backend,
  underlayMtu: number,
  override: number | undefined,
  encryption: Encryption = 'none',
  family: IpFamily = 4,
): number {
  if (override !== undefined) return override;
  // With encryption the same reasoning as auto's: the tunnel's size, whichever peers use it.
  if (encryption !== 'none') return computeWgMtu(underlayMtu, family);
  return backend === 'hostgw' ? underlayMtu : underlayMtu - VXLAN_OVERHEAD[family];
}

/** routeKindOf for a peer IP and the underlay's connected subnets ("a.b.c.d/n"). */
export function selectPeerRoute(
  backend: Backend,
  peerIP: string,
  subnets: readonly string[],
  encryption: Encryption = 'none',
): PeerRoute {
  const ip = parseIpv4(peerIP);
  return routeKindOf(
    backend,
    encryption,
    subnets.some((s) => cidrContains(parseCidr(s, false), ip)),
  );
}

/** Whether the config has a VXLAN device (auto or vxlan without encryption). */
export const usesVxlan = (config: DatapathConfig): boolean =>
  config.encryption === 'none' && (config.backend === 'auto' || config.backend === 'vxlan');

/** The device whose traffic counts as "over the tunnel" for ADR 14, if any. */
export function tunnelDevice(config: DatapathConfig): string | undefined {
  if (config.encryption !== 'none') return config.wireguardName;
  return usesVxlan(config) ? config.vxlanName : undefined;
}

const isV4Cidr = (c: string) => !c.includes(':');

/**
 * Sorts by a text key in byText order. With unique keys (the usual case: one
 * route per podCIDR, one neighbour per gateway, one FDB entry per MAC) it sorts
 * the keys with the engine's native string order, which is byText's, instead of
 * calling a comparator some 60,000 times for 5000 entries.
 */
function sortByKey<T>(items: T[], key: (t: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const item of items) byKey.set(key(item), item);
  if (byKey.size !== items.length) return items.sort((a, b) => byText(key(a), key(b)));
  return [...byKey.keys()].sort().map((k) => byKey.get(k) as T);
}

/**
 * The kernel state Weft wants on this node. Pure; `cache` only remembers the
 * per-peer derivations (same result, less work when few peers changed). The underlay's family
 * is that of self.underlayIP: on an IPv6-only node (ADR 19) the VXLAN device runs over IPv6.
 */
export function desiredDatapath(
  self: SelfNode,
  peers: readonly PeerNode[],
  config: DatapathConfig,
  underlay: UnderlayFacts,
  cache?: PeerFactsCache,
): DesiredDatapath {
  const own = ownPodCIDRs(self);
  const own6 = ownIpv6(self);
  const family = underlayFamilyOf(self);
  const local = ownUnderlayText(self);
  const factsOf = cache ? (p: PeerNode) => cache.get(p) : computePeerFacts;
  const { usable, skipped, keyless } = selectPeers(self, own, own6, peers, config, underlay, factsOf);
  const mtu = computeMtu(config.backend, underlay.mtu, config.mtu, config.encryption, family);
  const entries = emptyPeerEntries();
  const peerRoutes = new Map<string, PeerRoute>();
  const peerRoutes6 = new Map<string, PeerRoute>();
  for (const { peer, facts, route, route6 } of usable) {
    if (route !== undefined) peerRoutes.set(peer.name, route);
    if (route6 !== undefined) peerRoutes6.set(peer.name, route6);
    pushPeerEntries(entries, peer, facts, route, route6, config, underlay);
  }
  const ownBoth = [...own, ...own6.podCIDRs];
  const vxlan = !usesVxlan(config)
    ? undefined
    : {
        name: config.vxlanName,
        kind: 'vxlan',
        vni: config.vxlanVNI,
        port: config.vxlanPort,
        local,
        dev: underlay.iface,
        mac: vtepMac(local),
        learning: false,
        mtu: underlay.mtu - VXLAN_OVERHEAD[family],
        up: true,
        addresses: ownBoth.map(vtepAddress).sort(),
      };
  // ADR 14 (node-IP-sourced traffic over the tunnel) is IPv4's: no such chains over IPv6.
  const tunnel = family === 4 ? tunnelDevice(config) : undefined;
  const wireguard =
    config.encryption === 'none'
      ? undefined
      : desiredWireguardPeers(usable, keyless, own, config, underlay, family);
  if (wireguard) entries.routes.push(...wireguardCatchAll(config, entries.routes));
  const host: HostInputs = {
    own,
    own6,
    config,
    usable,
    tunnel: tunnel ? { underlayIP: local, vxlanName: tunnel } : undefined,
    wireguard: wireguard !== undefined,
    underlayIface: underlay.iface,
  };
  const nftInputs = hostNftInputs(host);
  return {
    bridge: {
      name: config.bridgeName,
      kind: 'bridge',
      mac: bridgeMac(local),
      mtu,
      up: true,
      addresses: ownBoth.map(bridgeAddress).sort(),
    },
    vxlan,
    routes: sortByKey(entries.routes, (r) => r.dst),
    replyRoutes: sortByKey([...entries.replyRoutes.values()], (r) => r.dst),
    rules: tunnel ? [desiredReplyRule(config.bridgeName)] : [],
    neighbours: sortByKey(entries.neighbours, (n) => n.ip),
    fdb: sortByKey([...entries.fdb.values()], (f) => f.mac),
    sysctls: hostSysctls(host),
    nft: desiredNftTable(nftInputs),
    nftRules: nftRuleTexts(nftInputs),
    // With NetworkPolicy on, the datapath adds the policy part (or marks it pending) after this.
    policyPending: false,
    mtu,
    peerRoutes,
    peerRoutes6,
    skipped,
    wireguard,
  };
}

/**
 * The cluster CIDRs themselves lead into the WireGuard device (behind every more specific
 * route): traffic for a podCIDR whose node is left out — no key yet, a bad one — enters the
 * device, finds no peer and is dropped, instead of leaving through the default route in clear.
 */
function wireguardCatchAll(config: DatapathConfig, routes: readonly RouteState[]): RouteState[] {
  const taken = new Set(routes.map((r) => r.dst));
  return config.clusterCIDRs
    .map(canonicalCidr)
    .filter((dst) => !taken.has(dst))
    .map((dst) => {
      const metric = isV4Cidr(dst) ? 0 : IPV6_ROUTE_METRIC;
      return { dst, gateway: '', dev: config.wireguardName, onlink: false, metric };
    });
}

/**
 * What the WireGuard device needs from this pass: its name, port, MTU and addresses, and one
 * entry per peer routed through it (either family; see wireguardPeerOf). Its addresses stay
 * IPv4 (the own podCIDRs' network addresses; none on an IPv6-only node): host traffic to remote IPv6 pods takes the
 * bridge's IPv6 address as source, which lies in the own IPv6 podCIDR, an allowed IP of this
 * node on every peer.
 */
function desiredWireguardPeers(
  usable: readonly PeerPlan[],
  keyless: readonly KeylessPeer[],
  own: readonly string[],
  config: DatapathConfig,
  underlay: UnderlayFacts,
  family: IpFamily,
): DesiredWireguardPeers {
  return {
    device: config.wireguardName,
    listenPort: config.wireguardPort,
    underlayMtu: underlay.mtu,
    // Over an IPv6 underlay: endpoints [addr]:port, MTU underlay − 80 (ADR 19).
    ...(family === 6 ? { underlayFamily: 6 } : {}),
    addresses: own.map(vtepAddress).sort(),
    peers: usable
      .filter((u) => throughWireguard(u.route, u.route6))
      .map(({ peer, facts, route, route6 }) => wireguardPeerOf(peer, facts, route, route6)),
    keyless,
  };
}
