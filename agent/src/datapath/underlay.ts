import { formatCidr, parseCidr } from '../../../common/cidr.js';
import { DatapathError } from './errors.js';
import type { Netlink } from './netlink.js';
import type { UnderlayFacts } from './state.js';

/**
 * Finds the interface that holds the node's underlay IP, its MTU and its directly
 * connected subnets: the networks of its IPv4 addresses (except /32) plus the
 * link-scope routes through it (a /32 address with an onlink subnet route, as some
 * clouds do). Routes with Weft's own protocol are not evidence and are skipped.
 */
export async function detectUnderlay(
  netlink: Netlink,
  underlayIP: string,
  protocol: number,
): Promise<UnderlayFacts> {
  const addrs = await netlink.listAddrs();
  const link = addrs.find((l) => l.cidrs.some((c) => c.split('/')[0] === underlayIP));
  if (!link) {
    throw new DatapathError('ENOUNDERLAY', `no interface holds the node's underlayIP ${underlayIP}`);
  }
  const subnets = new Set<string>();
  for (const c of link.cidrs) {
    const net = parseCidr(c, false);
    if (net.prefix < 32) subnets.add(formatCidr(net));
  }
  for (const r of await netlink.listConnectedRoutes(link.name)) {
    if (r.gateway !== undefined) continue;
    if (r.dst === 'default' || r.protocol === String(protocol)) continue;
    const net = parseCidr(r.dst.includes('/') ? r.dst : `${r.dst}/32`, false);
    if (net.prefix < 32) subnets.add(formatCidr(net));
  }
  return { iface: link.name, mtu: link.mtu, subnets: [...subnets].sort() };
}
