import { cidrContains, isIpv4, parseCidr, parseIpv4 } from '../../../common/cidr.js';
import { errorMessage } from '../../../common/errors.js';
import { parseIpOrReason } from '../../../common/ip.js';
import { computeWgMtu } from '../wireguard/desired.js';
import { DatapathError } from './errors.js';
import { ipv6Sysctls } from './ipv6-sysctls.js';
import { collapseCidrs, desiredNftTable, type NftInputs, nftRuleTexts } from './nft-ruleset.js';
import { computePeerFacts, type PeerFactsCache } from './peer-facts.js';
import {
  byText,
  emptyPeerEntries,
  IPV6_ROUTE_METRIC,
  type OwnIpv6,
  type PeerPlan,
  pushPeerEntries,
  routeKindOf,
  selectPeers,
  throughWireguard,
  wireguardPeerOf,
} from './peer-routes.js';
import type {
  DesiredDatapath,
  DesiredWireguardPeers,
  KeylessPeer,
  RouteState,
  UnderlayFacts,
} from './state.js';
import { desiredReplyRule, RP_FILTER_LOOSE, rpFilterKey } from './tunnel-reply.js';
import type { Backend, DatapathConfig, Encryption, PeerNode, PeerRoute, SelfNode } from './types.js';
import { bridgeAddress, bridgeMac, canonicalCidr, vtepAddress, vtepMac } from './vtep.js';

export { byText } from './peer-routes.js';

export const IP_FORWARD = 'net.ipv4.ip_forward';
/** br_netfilter: bridged pod↔pod traffic of one node passes the inet forward hook (NetworkPolicy, ADR 12). */
export const BRIDGE_NF_CALL = 'net.bridge.bridge-nf-call-iptables';
/** Its IPv6 twin, for nodes with IPv6 pods. */
export const BRIDGE_NF_CALL6 = 'net.bridge.bridge-nf-call-ip6tables';
/** Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) headers. */
export const VXLAN_OVERHEAD = 50;

/**
 * Pod MTU. An override wins. Otherwise hostgw uses the underlay MTU, and vxlan and
 * auto use underlay − 50. Auto subtracts even while every peer is direct: a pod's
 * MTU is fixed when the pod is created, so an MTU that grew back when the last far
 * peer left (or shrank when one joined) would leave running pods with a size that
 * no longer fits the tunnel — silent drops for large packets. 50 bytes of the
 * direct path are the price of an MTU that never changes.
 */
export function computeMtu(
  backend: Backend,
  underlayMtu: number,
  override: number | undefined,
  encryption: Encryption = 'none',
): number {
  if (override !== undefined) return override;
  // With encryption the same reasoning as auto's: the tunnel's size, whichever peers use it.
  if (encryption !== 'none') return computeWgMtu(underlayMtu, 4);
  return backend === 'hostgw' ? underlayMtu : underlayMtu - VXLAN_OVERHEAD;
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
/** The node has an IPv6 podCIDR, so its pods have IPv6 addresses that NetworkPolicy must police. */
const policyIpv6 = (self: SelfNode) => !self.podCIDRs.every(isV4Cidr);

/** The node's own IPv4 podCIDRs, canonical; throws DatapathError when unusable. */
export function ownPodCIDRs(self: SelfNode): string[] {
  if (!isIpv4(self.underlayIP)) {
    throw new DatapathError(
      'EBADSELF',
      `self.underlayIP is not an IPv4 address: ${JSON.stringify(self.underlayIP)}`,
    );
  }
  const cidrs = self.podCIDRs.filter(isV4Cidr).map((c) => {
    try {
      return canonicalCidr(c);
    } catch (err) {
      throw new DatapathError('EBADSELF', `self.podCIDRs: ${errorMessage(err)}`, { cause: err });
    }
  });
  if (cidrs.length === 0) throw new DatapathError('ENOPODCIDR', `node ${self.name} has no IPv4 podCIDR yet`);
  return cidrs;
}

/** The node's IPv6 podCIDRs (canonical) and IPv6 InternalIP; throws DatapathError when unusable. */
export function ownIpv6(self: SelfNode): OwnIpv6 {
  const bad = (what: string, detail: string, cause?: unknown) =>
    new DatapathError('EBADSELF', `${what}: ${detail}`, cause === undefined ? {} : { cause });
  let ip: OwnIpv6['ip'];
  if (self.underlayIP6 !== undefined) {
    const parsed = parseIpOrReason(self.underlayIP6);
    if (typeof parsed === 'string' || parsed.family !== 6) {
      throw bad('self.underlayIP6', `not an IPv6 address: ${JSON.stringify(self.underlayIP6)}`);
    }
    ip = parsed;
  }
  const podCIDRs = self.podCIDRs
    .filter((c) => !isV4Cidr(c))
    .map((c) => {
      try {
        return canonicalCidr(c);
      } catch (err) {
        throw bad('self.podCIDRs', errorMessage(err), err);
      }
    });
  return { podCIDRs, ip };
}

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
 * per-peer derivations (same result, less work when few peers changed).
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
  const factsOf = cache ? (p: PeerNode) => cache.get(p) : computePeerFacts;
  const { usable, skipped, keyless } = selectPeers(self, own, own6, peers, config, underlay, factsOf);
  const mtu = computeMtu(config.backend, underlay.mtu, config.mtu, config.encryption);
  const entries = emptyPeerEntries();
  const peerRoutes = new Map<string, PeerRoute>();
  const peerRoutes6 = new Map<string, PeerRoute>();
  for (const { peer, facts, route, route6 } of usable) {
    peerRoutes.set(peer.name, route);
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
        local: self.underlayIP,
        dev: underlay.iface,
        mac: vtepMac(self.underlayIP),
        learning: false,
        mtu: underlay.mtu - VXLAN_OVERHEAD,
        up: true,
        addresses: ownBoth.map(vtepAddress).sort(),
      };
  const tunnel = tunnelDevice(config);
  const wireguard =
    config.encryption === 'none' ? undefined : desiredWireguardPeers(usable, keyless, own, config, underlay);
  if (wireguard) entries.routes.push(...wireguardCatchAll(config, entries.routes));
  const cluster = collapseCidrs([...config.clusterCIDRs.filter(isV4Cidr), ...own]);
  const cluster6 = collapseCidrs([...config.clusterCIDRs.filter((c) => !isV4Cidr(c)), ...own6.podCIDRs]);
  const nonMasq6 = config.nonMasqueradeCIDRs.filter((c) => !isV4Cidr(c)).map(canonicalCidr);
  const nftInputs: NftInputs = {
    cluster,
    noMasquerade: config.masquerade
      ? [...cluster, ...config.nonMasqueradeCIDRs.filter(isV4Cidr).map(canonicalCidr)]
      : undefined,
    ...(cluster6.length > 0 ? { cluster6 } : {}),
    ...(cluster6.length > 0 && config.masquerade ? { noMasquerade6: [...cluster6, ...nonMasq6] } : {}),
    networkPolicy: config.networkPolicy,
    ...(policyIpv6(self) ? { policyIpv6: { bridge: config.bridgeName } } : {}),
    ...(tunnel ? { tunnel: { underlayIP: self.underlayIP, vxlanName: tunnel } } : {}),
    ...(wireguard
      ? {
          clearGuard: {
            devices: [config.wireguardName, config.bridgeName],
            clear: usable.filter((u) => u.route === 'direct').flatMap((u) => u.facts.dsts),
            clear6: usable.filter((u) => u.route6 === 'direct').flatMap((u) => u.facts.dsts6),
          },
        }
      : {}),
  };
  const sysctls = new Map([[IP_FORWARD, '1']]);
  if (config.networkPolicy) sysctls.set(BRIDGE_NF_CALL, '1');
  if (config.networkPolicy && policyIpv6(self)) sysctls.set(BRIDGE_NF_CALL6, '1');
  if (tunnel) sysctls.set(rpFilterKey(tunnel), RP_FILTER_LOOSE);
  if (own6.podCIDRs.length > 0) for (const [k, v] of ipv6Sysctls(underlay.iface)) sysctls.set(k, v);
  return {
    bridge: {
      name: config.bridgeName,
      kind: 'bridge',
      mac: bridgeMac(self.underlayIP),
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
    sysctls,
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
 * IPv4 (the own podCIDRs' network addresses): host traffic to remote IPv6 pods takes the
 * bridge's IPv6 address as source, which lies in the own IPv6 podCIDR, an allowed IP of this
 * node on every peer.
 */
function desiredWireguardPeers(
  usable: readonly PeerPlan[],
  keyless: readonly KeylessPeer[],
  own: readonly string[],
  config: DatapathConfig,
  underlay: UnderlayFacts,
): DesiredWireguardPeers {
  return {
    device: config.wireguardName,
    listenPort: config.wireguardPort,
    underlayMtu: underlay.mtu,
    addresses: own.map(vtepAddress).sort(),
    peers: usable
      .filter((u) => throughWireguard(u.route, u.route6))
      .map(({ peer, facts, route, route6 }) => wireguardPeerOf(peer, facts, route, route6)),
    keyless,
  };
}
