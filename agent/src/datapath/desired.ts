import {
  cidrContains,
  formatCidr,
  type Ipv4Cidr,
  isIpv4,
  parseCidr,
  parseIpv4,
} from '../../../common/cidr.js';
import { errorMessage } from '../../../common/errors.js';
import { computeWgMtu, type WgPeerInput } from '../wireguard/desired.js';
import { isWireguardKey } from '../wireguard/keys.js';
import { CidrIndex } from './cidr-index.js';
import { DatapathError } from './errors.js';
import { collapseCidrs, desiredNftTable, type NftInputs, nftRuleTexts } from './nft-ruleset.js';
import { computePeerFacts, type PeerFacts, type PeerFactsCache } from './peer-facts.js';
import type {
  DesiredDatapath,
  DesiredWireguardPeers,
  FdbState,
  KeylessPeer,
  NeighState,
  RouteState,
  UnderlayFacts,
} from './state.js';
import { desiredReplyRule, RP_FILTER_LOOSE, replyRoute, rpFilterKey } from './tunnel-reply.js';
import type { Backend, DatapathConfig, Encryption, PeerNode, PeerRoute, SelfNode } from './types.js';
import { bridgeAddress, bridgeMac, canonicalCidr, vtepAddress, vtepMac } from './vtep.js';

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

/**
 * The route kind for a peer: hostgw always direct, vxlan always VXLAN; auto direct when the
 * peer's underlay IP lies in a directly connected subnet, else the tunnel — WireGuard when
 * encryption is on (for `all`, every peer).
 */
export function routeKindOf(backend: Backend, encryption: Encryption, direct: boolean): PeerRoute {
  if (encryption === 'all' || backend === 'wireguard') return 'wireguard';
  if (backend === 'hostgw') return 'direct';
  if (backend === 'vxlan') return 'vxlan';
  if (direct) return 'direct';
  return encryption === 'crossSubnet' ? 'wireguard' : 'vxlan';
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

interface PeerPlan {
  readonly peer: PeerNode;
  readonly facts: PeerFacts;
  readonly route: PeerRoute;
}

/** Plain code-unit order: deterministic and far cheaper than localeCompare for thousands of entries. */
export const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

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
 * The route kind for a peer, or throws an Error saying why the peer is unusable
 * (everything but podCIDR overlaps, which depend on the other peers).
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
  const route = routeKindOf(config.backend, config.encryption, direct);
  // Never in clear text instead (issue 16): the cluster routes lead into the device, which drops it.
  if (route === 'wireguard' && !isWireguardKey(peer.wgPublicKey)) {
    throw new PeerKeyError(peer.wgPublicKey === undefined ? 'no-key' : 'bad-key');
  }
  return route;
}

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

/** A podCIDR of `cidrs` that overlaps one in `taken`, as an Error message, or undefined. */
export function findClash(taken: CidrIndex, cidrs: readonly Ipv4Cidr[]): string | undefined {
  for (const c of cidrs) {
    const clash = taken.findOverlap(c);
    if (clash) return `podCIDR ${formatCidr(c)} overlaps ${formatCidr(clash)} of another node`;
  }
  return undefined;
}

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

export function pushPeerEntries(
  out: PeerEntries,
  peer: PeerNode,
  facts: PeerFacts,
  route: PeerRoute,
  config: DatapathConfig,
  underlay: UnderlayFacts,
): void {
  const { mac, dsts, gateways } = facts;
  for (let i = 0; i < dsts.length; i++) {
    const dst = dsts[i] as string;
    if (route === 'direct') {
      out.routes.push({ dst, gateway: peer.underlayIP, dev: underlay.iface, onlink: false, metric: 0 });
      continue;
    }
    if (route === 'wireguard') {
      // A layer-3 device: no gateway; WireGuard picks the peer by the destination (allowed IPs).
      out.routes.push({ dst, gateway: '', dev: config.wireguardName, onlink: false, metric: 0 });
      continue;
    }
    const gw = gateways[i] as string;
    out.routes.push({ dst, gateway: gw, dev: config.vxlanName, onlink: true, metric: 0 });
    out.neighbours.push({ dev: config.vxlanName, ip: gw, mac });
    out.fdb.set(mac, { dev: config.vxlanName, mac, dst: peer.underlayIP });
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

/** Validates peers; returns the usable ones and the reasons for the others. */
function selectPeers(
  self: SelfNode,
  own: readonly string[],
  peers: readonly PeerNode[],
  config: DatapathConfig,
  underlay: UnderlayFacts,
  factsOf: (peer: PeerNode) => PeerFacts,
): { usable: PeerPlan[]; skipped: { peer: string; reason: string }[]; keyless: KeylessPeer[] } {
  const usable: PeerPlan[] = [];
  const skipped: { peer: string; reason: string }[] = [];
  const keyless: KeylessPeer[] = [];
  const taken = new CidrIndex();
  for (const c of own) taken.add(parseCidr(c));
  const subnets = underlay.subnets.map((s) => parseCidr(s, false));
  for (const peer of [...peers].sort((a, b) => byText(a.name, b.name))) {
    if (peer.name === self.name) continue;
    try {
      if (peer.underlayIP === self.underlayIP) throw new Error('underlayIP is our own');
      const facts = factsOf(peer);
      const clash = findClash(taken, facts.cidrs);
      if (clash) throw new Error(clash);
      const route = checkPeer(self, peer, facts, config, underlay, subnets);
      for (const c of facts.cidrs) taken.add(c);
      usable.push({ peer, facts, route });
    } catch (err) {
      skipped.push({ peer: peer.name, reason: errorMessage(err) });
      if (err instanceof PeerKeyError) keyless.push({ peer: peer.name, reason: err.reason });
    }
  }
  return { usable, skipped, keyless };
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
  const factsOf = cache ? (p: PeerNode) => cache.get(p) : computePeerFacts;
  const { usable, skipped, keyless } = selectPeers(self, own, peers, config, underlay, factsOf);
  const mtu = computeMtu(config.backend, underlay.mtu, config.mtu, config.encryption);
  const entries = emptyPeerEntries();
  const peerRoutes = new Map<string, PeerRoute>();
  for (const { peer, facts, route } of usable) {
    peerRoutes.set(peer.name, route);
    pushPeerEntries(entries, peer, facts, route, config, underlay);
  }
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
        addresses: own.map(vtepAddress).sort(),
      };
  const tunnel = tunnelDevice(config);
  const wireguard =
    config.encryption === 'none' ? undefined : desiredWireguardPeers(usable, keyless, own, config, underlay);
  if (wireguard) entries.routes.push(...wireguardCatchAll(config, entries.routes));
  const cluster = collapseCidrs([...config.clusterCIDRs.filter(isV4Cidr), ...own]);
  const nftInputs: NftInputs = {
    cluster,
    noMasquerade: config.masquerade
      ? [...cluster, ...config.nonMasqueradeCIDRs.filter(isV4Cidr).map(canonicalCidr)]
      : undefined,
    networkPolicy: config.networkPolicy,
    ...(policyIpv6(self) ? { policyIpv6: { bridge: config.bridgeName } } : {}),
    ...(tunnel ? { tunnel: { underlayIP: self.underlayIP, vxlanName: tunnel } } : {}),
    ...(wireguard
      ? {
          clearGuard: {
            devices: [config.wireguardName, config.bridgeName],
            clear: usable.filter((u) => u.route === 'direct').flatMap((u) => u.facts.dsts),
          },
        }
      : {}),
  };
  const sysctls = new Map([[IP_FORWARD, '1']]);
  if (config.networkPolicy) sysctls.set(BRIDGE_NF_CALL, '1');
  if (config.networkPolicy && policyIpv6(self)) sysctls.set(BRIDGE_NF_CALL6, '1');
  if (tunnel) sysctls.set(rpFilterKey(tunnel), RP_FILTER_LOOSE);
  return {
    bridge: {
      name: config.bridgeName,
      kind: 'bridge',
      mac: bridgeMac(self.underlayIP),
      mtu,
      up: true,
      addresses: own.map(bridgeAddress).sort(),
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
    peerRoutes6: new Map(),
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
    .filter(isV4Cidr)
    .map(canonicalCidr)
    .filter((dst) => !taken.has(dst))
    .map((dst) => ({ dst, gateway: '', dev: config.wireguardName, onlink: false, metric: 0 }));
}

/**
 * What the WireGuard device needs from this pass: its name, port, MTU and addresses, and one
 * entry per peer routed through it. Allowed IPs are the peer's podCIDRs and its node IP (/32):
 * node-IP-sourced connections keep their source over the tunnel, as over VXLAN (ADR 14).
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
      .filter((u) => u.route === 'wireguard')
      .map(({ peer, facts }) => wireguardPeerOf(peer, facts)),
    keyless,
  };
}

/** One peer of the WireGuard device (its route kind is 'wireguard'). */
export function wireguardPeerOf(peer: PeerNode, facts: PeerFacts): WgPeerInput {
  return {
    name: peer.name,
    underlayIP: peer.underlayIP,
    allowedIPs: [...facts.dsts, `${peer.underlayIP}/32`],
    publicKey: peer.wgPublicKey,
  };
}
