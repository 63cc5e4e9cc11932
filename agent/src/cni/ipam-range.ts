import { cidrSize, formatCidr, formatIpv4, parseCidr } from '../../../common/cidr.js';

/** One address range IPAM hands out from: a podCIDR minus network, gateway and broadcast. */
export interface IpamRange {
  /** The podCIDR, canonical ("10.244.1.0/24"). */
  readonly cidr: string;
  readonly family: 4;
  readonly prefix: number;
  /** The bridge's address in this range (first host), as a number. */
  readonly gateway: number;
  /** First and last assignable address (inclusive), as numbers; first > last when empty. */
  readonly first: number;
  readonly last: number;
}

/**
 * Derives the ranges from the node's podCIDRs. IPv4 only for now; IPv6 entries
 * are returned in `skipped` so the caller can log them (dual-stack gives one
 * range per family and one address from each per attachment).
 */
export function computeRanges(podCIDRs: readonly string[]): { ranges: IpamRange[]; skipped: string[] } {
  const ranges: IpamRange[] = [];
  const skipped: string[] = [];
  for (const text of podCIDRs) {
    if (text.includes(':')) {
      skipped.push(text);
      continue;
    }
    const c = parseCidr(text);
    const size = cidrSize(c);
    // /31 and /32 have no room for a gateway plus pods; they yield an empty range.
    const gateway = c.network + 1;
    ranges.push({
      cidr: formatCidr(c),
      family: 4,
      prefix: c.prefix,
      gateway,
      first: c.network + 2,
      last: size >= 4 ? c.network + size - 2 : c.network + 1,
    });
  }
  return { ranges, skipped };
}

export function rangeCapacity(r: IpamRange): number {
  return Math.max(0, r.last - r.first + 1);
}

export function rangeContains(r: IpamRange, ip: number): boolean {
  return ip >= r.first && ip <= r.last;
}

export function formatGateway(r: IpamRange): string {
  return formatIpv4(r.gateway);
}

/**
 * Picks the next free address after `cursor` (round robin, wrapping), so that an
 * address just released is the last to be handed out again. Pure.
 */
export function chooseAddress(
  r: IpamRange,
  used: ReadonlySet<number>,
  cursor: number | undefined,
): number | undefined {
  const capacity = rangeCapacity(r);
  if (capacity === 0) return undefined;
  const start = cursor !== undefined && rangeContains(r, cursor) ? cursor - r.first + 1 : 0;
  for (let i = 0; i < capacity; i++) {
    const ip = r.first + ((start + i) % capacity);
    if (!used.has(ip)) return ip;
  }
  return undefined;
}
