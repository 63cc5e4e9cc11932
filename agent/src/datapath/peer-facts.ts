import { formatCidr, formatIpv4, type Ipv4Cidr, isIpv4, parseCidr, parseIpv4 } from '../../../common/cidr.js';
import { formatIp, type IpAddress, type IpFamily, parseIpOrReason } from '../../../common/ip.js';
import { formatIpPrefix, type IpPrefix, parseIpPrefix } from '../../../common/ip-prefix.js';
import type { PeerNode } from './types.js';
import { vtepMac } from './vtep.js';

/** What desired() derives from one peer on its own: parsed, formatted, ready to place. */
export interface PeerFacts {
  /** The family of the peer's underlay (of its underlayIP): 6 on an IPv6-only node (ADR 19). */
  readonly family: IpFamily;
  /** Its IPv4 underlay address as a number; 0 when the underlay is IPv6. */
  readonly ip: number;
  /** The underlay address in canonical text: the VXLAN FDB destination, the WireGuard endpoint. */
  readonly endpoint: string;
  /** IPv4 podCIDRs, parsed, in the peer's order. */
  readonly cidrs: readonly Ipv4Cidr[];
  /** The same, formatted canonically ("10.244.1.0/24"). */
  readonly dsts: readonly string[];
  /** Each podCIDR's network address: the onlink gateway of its VXLAN route. */
  readonly gateways: readonly string[];
  /** The peer's VTEP MAC, derived from its underlay IP (an IPv6 one folded, vtep.ts). */
  readonly mac: string;
  /**
   * The peer's IPv6 InternalIP (underlayIP6, on an IPv6-only node its underlayIP), parsed;
   * undefined when it has none.
   */
  readonly ip6: IpAddress | undefined;
  /** Its canonical text (RFC 5952): the next hop of a direct IPv6 route. */
  readonly gateway6: string | undefined;
  /** IPv6 podCIDRs, parsed, in the peer's order (ADR 18). */
  readonly cidrs6: readonly IpPrefix[];
  /** The same, canonical ("fd00:10:244:2::/64"). */
  readonly dsts6: readonly string[];
  /** Each IPv6 podCIDR's network address: the onlink gateway of its route through the tunnel. */
  readonly gateways6: readonly string[];
}

const isV4Cidr = (c: string) => !c.includes(':');

function parseUnderlayIP6(text: string | undefined): IpAddress | undefined {
  if (text === undefined) return undefined;
  const ip = parseIpOrReason(text);
  if (typeof ip === 'string' || ip.family !== 6) {
    throw new Error(`underlayIP6 ${JSON.stringify(text)} is not IPv6`);
  }
  return ip;
}

/** Derives a peer's facts; throws an Error whose message says what is wrong with it. Pure. */
export function computePeerFacts(peer: PeerNode): PeerFacts {
  if (peer.underlayIP.includes(':')) return computeIpv6OnlyFacts(peer);
  if (!isIpv4(peer.underlayIP)) throw new Error(`underlayIP ${JSON.stringify(peer.underlayIP)} is not IPv4`);
  const cidrs = peer.podCIDRs.filter(isV4Cidr).map((c) => parseCidr(c));
  if (cidrs.length === 0) throw new Error('no IPv4 podCIDR');
  const ip6 = parseUnderlayIP6(peer.underlayIP6);
  return {
    family: 4,
    ip: parseIpv4(peer.underlayIP),
    endpoint: peer.underlayIP,
    cidrs,
    dsts: cidrs.map(formatCidr),
    gateways: cidrs.map((c) => formatIpv4(c.network)),
    mac: vtepMac(peer.underlayIP),
    ...ipv6Facts(ip6, peer.podCIDRs),
  };
}

/** The IPv6 part of a peer's facts: its IPv6 InternalIP and podCIDRs. */
function ipv6Facts(ip6: IpAddress | undefined, podCIDRs: readonly string[]) {
  const cidrs6 = podCIDRs.filter((c) => !isV4Cidr(c)).map((c) => parseIpPrefix(c));
  return {
    ip6,
    gateway6: ip6 === undefined ? undefined : formatIp(ip6),
    cidrs6,
    dsts6: cidrs6.map(formatIpPrefix),
    gateways6: cidrs6.map((c) => formatIp({ family: 6, value: c.network })),
  };
}

/**
 * An IPv6-only peer (ADR 19): its underlayIP is IPv6 and is its IPv6 InternalIP too (an
 * underlayIP6 beside it must be the same address); IPv6 podCIDRs only — IPv4 pods need an
 * IPv4 underlay (dual-stack, ADR 18).
 */
function computeIpv6OnlyFacts(peer: PeerNode): PeerFacts {
  const ip = parseIpOrReason(peer.underlayIP);
  if (typeof ip === 'string' || ip.family !== 6) {
    throw new Error(`underlayIP ${JSON.stringify(peer.underlayIP)} is neither IPv4 nor IPv6`);
  }
  const ip6 = parseUnderlayIP6(peer.underlayIP6);
  if (ip6 !== undefined && ip6.value !== ip.value) {
    throw new Error(`underlayIP6 ${peer.underlayIP6} differs from its IPv6 underlayIP ${peer.underlayIP}`);
  }
  if (peer.podCIDRs.some(isV4Cidr)) throw new Error('IPv4 podCIDR on a node with an IPv6 underlayIP');
  const v6 = ipv6Facts(ip, peer.podCIDRs);
  if (v6.cidrs6.length === 0) throw new Error('no IPv6 podCIDR');
  const endpoint = formatIp(ip);
  return { family: 6, ip: 0, endpoint, cidrs: [], dsts: [], gateways: [], mac: vtepMac(endpoint), ...v6 };
}

/**
 * Remembers computePeerFacts per peer object. Peer records are immutable (the
 * PeerStore replaces a node's object when it changes), so a one-peer change among
 * thousands re-derives one peer instead of all. Entries go with their objects.
 */
export class PeerFactsCache {
  readonly #memo = new WeakMap<PeerNode, PeerFacts | Error>();

  /** The peer's facts; throws (the remembered error) for an unusable peer. */
  get(peer: PeerNode): PeerFacts {
    let facts = this.#memo.get(peer);
    if (facts === undefined) {
      try {
        facts = computePeerFacts(peer);
      } catch (err: unknown) {
        facts = err instanceof Error ? err : new Error(String(err));
      }
      this.#memo.set(peer, facts);
    }
    if (facts instanceof Error) throw facts;
    return facts;
  }
}
