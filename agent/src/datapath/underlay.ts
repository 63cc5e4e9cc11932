import { formatCidr, parseCidr } from '../../../common/cidr.js';
import { parseIpOrReason } from '../../../common/ip.js';
import { formatIpPrefix, parseIpPrefix } from '../../../common/ip-prefix.js';
import { DatapathError } from './errors.js';
import type { Netlink } from './netlink.js';
import type { LinkAddrs, RouteRecord } from './netlink-parse.js';
import type { UnderlayFacts } from './state.js';

/** Whether a route through the interface is evidence of a directly connected subnet. */
const connected = (r: RouteRecord, protocol: number) =>
  r.gateway === undefined && r.dst !== 'default' && r.protocol !== String(protocol);

/**
 * A test for the link that holds `underlayIP`: among its IPv4 addresses, or for an IPv6 one
 * (an IPv6-only node, ADR 19) among its IPv6 addresses, compared as values (any spelling).
 */
function holding(underlayIP: string): (link: LinkAddrs) => boolean {
  if (!underlayIP.includes(':')) return (l) => l.cidrs.some((c) => c.split('/')[0] === underlayIP);
  const want = parseIpOrReason(underlayIP);
  if (typeof want === 'string') return () => false;
  const same = (c: string) => {
    const have = parseIpOrReason(c.split('/')[0] ?? '');
    return typeof have !== 'string' && have.value === want.value;
  };
  return (l) => l.cidrs6.some(same);
}

/**
 * Finds the interface that holds the node's underlay IP, its MTU and its directly
 * connected subnets: the networks of its IPv4 addresses (except /32) plus the
 * link-scope routes through it (a /32 address with an onlink subnet route, as some
 * clouds do). Routes with Weft's own protocol are not evidence and are skipped.
 * With `ipv6` (the node has an IPv6 InternalIP) the same for IPv6 on that interface:
 * the networks of its global addresses (except /128) plus its routes without a
 * gateway (on-link prefixes, e.g. from router advertisements); link-local fe80::/10
 * is never a subnet another node's InternalIP lies in. An IPv6 underlayIP (IPv6-only node)
 * implies `ipv6`: the interface is found by that address and its IPv6 subnets are learnt.
 */
export async function detectUnderlay(
  netlink: Netlink,
  underlayIP: string,
  protocol: number,
  ipv6 = false,
): Promise<UnderlayFacts> {
  const addrs = await netlink.listAddrs();
  const link = addrs.find(holding(underlayIP));
  if (!link) {
    throw new DatapathError('ENOUNDERLAY', `no interface holds the node's underlayIP ${underlayIP}`);
  }
  const subnets = new Set<string>();
  for (const c of link.cidrs) {
    const net = parseCidr(c, false);
    if (net.prefix < 32) subnets.add(formatCidr(net));
  }
  for (const r of await netlink.listConnectedRoutes(link.name)) {
    if (!connected(r, protocol)) continue;
    const net = parseCidr(r.dst.includes('/') ? r.dst : `${r.dst}/32`, false);
    if (net.prefix < 32) subnets.add(formatCidr(net));
  }
  const facts = { iface: link.name, mtu: link.mtu, subnets: [...subnets].sort() };
  if (!ipv6 && !underlayIP.includes(':')) return facts;
  const subnets6 = new Set<string>();
  const routes6 = await netlink.listConnectedRoutes(link.name, 6);
  const dsts6 = routes6.filter((r) => connected(r, protocol) && r.dst.includes('/')).map((r) => r.dst);
  for (const c of [...link.cidrs6, ...dsts6]) {
    const net = parseIpPrefix(c, { strict: false });
    const linkLocal = net.network >> 118n === 0x3fan; // fe80::/10
    if (net.length < 128 && net.length > 0 && !linkLocal) subnets6.add(formatIpPrefix(net));
  }
  return { ...facts, subnets6: [...subnets6].sort() };
}
