import { formatCidr, formatIpv4, nthAddress, parseCidr, parseIpv4 } from '../../../common/cidr.js';
import { formatIp, parseIp } from '../../../common/ip.js';
import { formatIpPrefix, nthAddressOf, parseIpPrefix } from '../../../common/ip-prefix.js';

/**
 * VTEP addressing, flannel's scheme (see README.md in this folder):
 * - MAC = 02:57:<the four octets of the node's underlay IPv4>. 0x02 sets the
 *   locally-administered bit with the multicast bit clear (unicast); 0x57 is "W".
 *   It follows from the underlay IP alone, so it survives restarts and a peer can
 *   compute it without asking. An IPv6 underlay address (IPv6-only node, ADR 19) is
 *   folded to four bytes first: the XOR of its four 32-bit words (underlayWord).
 * - Gateway of a node's podCIDR on the VXLAN overlay = the podCIDR's network
 *   address (10.244.3.0 for 10.244.3.0/24). Each node puts that address (/32) on its
 *   own VXLAN device, so ordinary host-originated traffic to remote pods leaves with
 *   it as the source and the replies come back through the tunnel. Traffic that already
 *   has the node's underlay IP as source (a host connection to its own NodePort that
 *   kube-proxy DNATs to a remote pod) keeps it instead; see tunnel-reply.ts (ADR 14).
 * - The same for an IPv6 podCIDR, carried inside the same (IPv4) tunnel: gateway =
 *   the network address (fd00:10:244:3:: for fd00:10:244:3::/64), /128 on the VXLAN
 *   device, the bridge gets the first host address (ADR 18).
 */
export function vtepMac(underlayIP: string): string {
  return derivedMac(0x02, underlayIP);
}

/**
 * The bridge's MAC = 0a:57:<the four octets of the node's underlay IPv4, or its folded IPv6>: locally
 * administered and unicast like the VTEP's, but a different first octet so the two
 * never collide. Fixed, because a bridge without a set address takes the lowest MAC
 * of its ports and changes it whenever a pod comes or goes, which leaves stale ARP
 * entries for the gateway in the pods.
 */
export function bridgeMac(underlayIP: string): string {
  return derivedMac(0x0a, underlayIP);
}

/**
 * The four bytes a MAC is derived from: an IPv4 address itself, an IPv6 one folded (the XOR
 * of its four 32-bit words; ADR 19). The fold is not injective: two IPv6 nodes may share a
 * word, which selectPeers refuses for the later of two tunnel peers (`vtepClash`).
 */
export function underlayWord(underlayIP: string): number {
  if (!underlayIP.includes(':')) return parseIpv4(underlayIP);
  let v = parseIp(underlayIP).value;
  let word = 0n;
  for (let i = 0; i < 4; i++, v >>= 32n) word ^= v & 0xffffffffn;
  return Number(word);
}

function derivedMac(first: number, underlayIP: string): string {
  const ip = underlayWord(underlayIP);
  const bytes = [first, 0x57, ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

const isV6 = (cidr: string) => cidr.includes(':');

/** The overlay gateway of a podCIDR (either family): its network address. */
export function vxlanGateway(podCIDR: string): string {
  if (isV6(podCIDR)) {
    const p = parseIpPrefix(podCIDR);
    return formatIp({ family: 6, value: p.network });
  }
  return formatIpv4(parseCidr(podCIDR).network);
}

/** The address the own VXLAN device carries for one own podCIDR ("10.244.1.0/32", "fd00:10:244:1::/128"). */
export function vtepAddress(podCIDR: string): string {
  return `${vxlanGateway(podCIDR)}/${isV6(podCIDR) ? 128 : 32}`;
}

/** The bridge address for a podCIDR: its first host address with the podCIDR's length. */
export function bridgeAddress(podCIDR: string): string {
  if (isV6(podCIDR)) {
    const p = parseIpPrefix(podCIDR);
    return `${formatIp(nthAddressOf(p, 1n))}/${p.length}`;
  }
  const c = parseCidr(podCIDR);
  return `${formatIpv4(nthAddress(c, 1))}/${c.prefix}`;
}

/** Canonical form of a CIDR ("10.244.1.0/24", RFC 5952 for IPv6); throws CidrError on bad input. */
export function canonicalCidr(text: string): string {
  return isV6(text) ? formatIpPrefix(parseIpPrefix(text)) : formatCidr(parseCidr(text));
}
