import { errorMessage } from '../../../common/errors.js';
import { formatIp, type IpAddress, type IpFamily } from '../../../common/ip.js';
import { formatIpPrefix, type IpPrefix, parseIpPrefix, prefixSize } from '../../../common/ip-prefix.js';

/**
 * One address range IPAM hands out from: a podCIDR minus its network address and
 * the gateway (first host, the bridge's address), and for IPv4 the broadcast.
 * Addresses are bigints of the range's family; an IPv6 range is never listed.
 */
export interface IpamRange {
  /** The podCIDR, canonical ("10.244.1.0/24", "fd00:10:244:1::/64"). */
  readonly cidr: string;
  readonly family: IpFamily;
  readonly prefix: number;
  /** The bridge's address in this range (first host). */
  readonly gateway: bigint;
  /** First and last assignable address (inclusive); first > last when empty. */
  readonly first: bigint;
  readonly last: bigint;
}

function rangeOf(p: IpPrefix): IpamRange {
  const size = prefixSize(p);
  // IPv4 /31 and /32, IPv6 /127 and /128 have no room for a gateway plus pods: empty.
  let last = p.network + 1n;
  if (p.family === 4 && size >= 4n) last = p.network + size - 2n;
  if (p.family === 6 && size >= 4n) last = p.network + size - 1n;
  return {
    cidr: formatIpPrefix(p),
    family: p.family,
    prefix: p.length,
    gateway: p.network + 1n,
    first: p.network + 2n,
    last,
  };
}

/**
 * Derives one range per family from the node's podCIDRs (IPv4 first, as given),
 * and names every reason the list is not usable as a pod network: an entry that
 * is not a prefix, a second one of a family, none of the cluster's primary family
 * (`primary`: IPv4 unless the cluster is IPv6-only, ADR 19; a dual-stack node may
 * lack the IPv6 one, ADR 18). An attachment gets one address from every range.
 */
export function computeRanges(
  podCIDRs: readonly string[],
  primary: IpFamily = 4,
): { ranges: IpamRange[]; problems: string[] } {
  const ranges: IpamRange[] = [];
  const problems: string[] = [];
  const seen = new Set<IpFamily>();
  for (const text of podCIDRs) {
    const family: IpFamily = text.includes(':') ? 6 : 4;
    if (seen.has(family)) {
      problems.push(`more than one IPv${family} podCIDR (${JSON.stringify(text)} is extra)`);
      continue;
    }
    seen.add(family);
    try {
      ranges.push(rangeOf(parseIpPrefix(text)));
    } catch (err) {
      problems.push(`IPv${family} podCIDR ${JSON.stringify(text)} is unusable: ${errorMessage(err)}`);
    }
  }
  if (!seen.has(primary)) problems.push(MISSING_PRIMARY[primary]);
  return { ranges, problems };
}

const MISSING_PRIMARY: Readonly<Record<IpFamily, string>> = {
  4: 'no IPv4 podCIDR (an IPv6-only pod network needs an IPv6-only cluster: clusterCIDRs with only an IPv6 CIDR)',
  6: 'no IPv6 podCIDR (the cluster is IPv6-only)',
};

/** The primary family of a pod network: IPv6 when the cluster CIDRs are IPv6 only, IPv4 otherwise. */
export function primaryFamilyOf(clusterCIDRs: readonly string[]): IpFamily {
  return clusterCIDRs.length > 0 && clusterCIDRs.every((c) => c.includes(':')) ? 6 : 4;
}

export function rangeCapacity(r: IpamRange): bigint {
  return r.last >= r.first ? r.last - r.first + 1n : 0n;
}

export function rangeContains(r: IpamRange, ip: IpAddress): boolean {
  return ip.family === r.family && ip.value >= r.first && ip.value <= r.last;
}

export function formatGateway(r: IpamRange): string {
  return formatIp({ family: r.family, value: r.gateway });
}

/**
 * Picks the next free address after `cursor` (round robin, wrapping), so that an
 * address just released is the last to be handed out again. `used` holds the
 * addresses of the range's family in use. Pure; looks at no more than
 * |used| + 1 candidates, so a /64 costs what a /24 does.
 */
export function chooseAddress(
  r: IpamRange,
  used: ReadonlySet<bigint>,
  cursor: IpAddress | undefined,
): IpAddress | undefined {
  const capacity = rangeCapacity(r);
  const start = cursor !== undefined && rangeContains(r, cursor) ? cursor.value - r.first + 1n : 0n;
  // Among |used| + 1 distinct candidates at least one is free.
  const tries = capacity < BigInt(used.size) + 1n ? capacity : BigInt(used.size) + 1n;
  for (let i = 0n; i < tries; i++) {
    const value = r.first + ((start + i) % capacity);
    if (!used.has(value)) return { family: r.family, value };
  }
  return undefined;
}
