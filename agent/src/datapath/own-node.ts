import { isIpv4 } from '../../../common/cidr.js';
import { errorMessage } from '../../../common/errors.js';
import { formatIp, type IpFamily, parseIpOrReason } from '../../../common/ip.js';
import { DatapathError } from './errors.js';
import type { OwnIpv6 } from './peer-routes.js';
import type { SelfNode } from './types.js';
import { canonicalCidr } from './vtep.js';

/**
 * This node as desired() needs it: its podCIDRs per family and its underlay address, checked.
 * The underlay's family is that of `underlayIP`: 4 (IPv4-only and dual-stack nodes, ADR 18) or
 * 6 (an IPv6-only node, ADR 19: `underlayIP` is its IPv6 InternalIP, podCIDRs are IPv6 only).
 */

const isV4Cidr = (c: string) => !c.includes(':');

/** The family of a node's underlay: the family of its underlayIP (text with a colon is IPv6). */
export const underlayFamilyOf = (node: { readonly underlayIP: string }): IpFamily =>
  node.underlayIP.includes(':') ? 6 : 4;

const bad = (what: string, detail: string, cause?: unknown) =>
  new DatapathError('EBADSELF', `${what}: ${detail}`, cause === undefined ? {} : { cause });

function canonicalOf(self: SelfNode, ipv4: boolean): string[] {
  return self.podCIDRs
    .filter((c) => isV4Cidr(c) === ipv4)
    .map((c) => {
      try {
        return canonicalCidr(c);
      } catch (err) {
        throw bad('self.podCIDRs', errorMessage(err), err);
      }
    });
}

/**
 * The node's own IPv4 podCIDRs, canonical; throws DatapathError when unusable. An IPv6-only
 * node has none (and must have none: IPv4 pods need an IPv4 underlay).
 */
export function ownPodCIDRs(self: SelfNode): string[] {
  if (underlayFamilyOf(self) === 6) {
    if (self.podCIDRs.some(isV4Cidr)) {
      throw bad('self.podCIDRs', 'an IPv4 podCIDR on a node with an IPv6 underlayIP (IPv6-only, ADR 19)');
    }
    return [];
  }
  if (!isIpv4(self.underlayIP)) {
    throw bad('self.underlayIP', `not an IPv4 address: ${JSON.stringify(self.underlayIP)}`);
  }
  const cidrs = canonicalOf(self, true);
  if (cidrs.length === 0) throw new DatapathError('ENOPODCIDR', `node ${self.name} has no IPv4 podCIDR yet`);
  return cidrs;
}

function parseIpv6(what: string, text: string) {
  const parsed = parseIpOrReason(text);
  if (typeof parsed === 'string' || parsed.family !== 6) {
    throw bad(what, `not an IPv6 address: ${JSON.stringify(text)}`);
  }
  return parsed;
}

/**
 * The node's IPv6 podCIDRs (canonical) and IPv6 InternalIP; throws DatapathError when unusable.
 * On an IPv6-only node the InternalIP is the underlayIP (an underlayIP6 must be the same) and an
 * IPv6 podCIDR is required (ENOPODCIDR until the node has one).
 */
export function ownIpv6(self: SelfNode): OwnIpv6 {
  const v6only = underlayFamilyOf(self) === 6;
  const underlay = v6only ? parseIpv6('self.underlayIP', self.underlayIP) : undefined;
  const ip6 = self.underlayIP6 === undefined ? undefined : parseIpv6('self.underlayIP6', self.underlayIP6);
  if (underlay && ip6 && ip6.value !== underlay.value) {
    throw bad('self.underlayIP6', `differs from the IPv6 underlayIP ${formatIp(underlay)}`);
  }
  const podCIDRs = canonicalOf(self, false);
  if (v6only && podCIDRs.length === 0) {
    throw new DatapathError('ENOPODCIDR', `node ${self.name} has no IPv6 podCIDR yet`);
  }
  return { podCIDRs, ip: underlay ?? ip6 };
}

/** The node's underlay address in canonical text (VXLAN `local`, ADR 14 rules): RFC 5952 for IPv6. */
export function ownUnderlayText(self: SelfNode): string {
  if (underlayFamilyOf(self) === 4) return self.underlayIP;
  return formatIp(parseIpv6('self.underlayIP', self.underlayIP));
}
