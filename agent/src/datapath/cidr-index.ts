import type { Ipv4Cidr } from '../../../common/cidr.js';
import { familyBits, type IpFamily } from '../../../common/ip.js';
import type { IpPrefix } from '../../../common/ip-prefix.js';

/**
 * Prefixes indexed by length, for overlap checks in O(number of distinct lengths)
 * instead of O(n): with 5000 peers a pairwise check dominated desired(). P is the
 * prefix type, N its network's (a number for IPv4, a bigint for IPv6); `mask` keeps
 * the first `length` bits of a network.
 */
class PrefixIndex<P, N extends number | bigint> {
  private readonly byLength = new Map<number, Set<N>>();

  constructor(
    private readonly mask: (network: N, length: number) => N,
    private readonly split: (p: P) => readonly [N, number],
    private readonly join: (network: N, length: number) => P,
  ) {}

  add(p: P): void {
    const [network, length] = this.split(p);
    const set = this.byLength.get(length) ?? new Set<N>();
    set.add(network);
    this.byLength.set(length, set);
  }

  /** Removes an indexed prefix (one added once). */
  delete(p: P): void {
    const [network, length] = this.split(p);
    const set = this.byLength.get(length);
    if (!set) return;
    set.delete(network);
    if (set.size === 0) this.byLength.delete(length);
  }

  /** The first indexed prefix that overlaps `p`, if any. */
  findOverlap(p: P): P | undefined {
    const [network, length] = this.split(p);
    for (const [indexed, networks] of this.byLength) {
      if (indexed <= length) {
        const masked = this.mask(network, indexed);
        if (networks.has(masked)) return this.join(masked, indexed);
        continue;
      }
      // A longer indexed prefix inside p: rare (mixed podCIDR sizes), so a scan is fine.
      for (const n of networks) if (this.mask(n, length) === network) return this.join(n, indexed);
    }
    return undefined;
  }
}

const maskTo = (network: number, prefix: number) =>
  prefix === 0 ? 0 : (network & ((0xffffffff << (32 - prefix)) >>> 0)) >>> 0;

/** IPv4 podCIDRs (common/cidr.ts numbers). */
export class CidrIndex extends PrefixIndex<Ipv4Cidr, number> {
  constructor() {
    super(
      maskTo,
      (c) => [c.network, c.prefix],
      (network, prefix) => ({ network, prefix }),
    );
  }
}

/** Prefixes of one family as bigints (the IPv6 podCIDRs). */
export class IpPrefixIndex extends PrefixIndex<IpPrefix, bigint> {
  constructor(family: IpFamily = 6) {
    const bits = BigInt(familyBits(family));
    super(
      (network, length) => network & (((1n << BigInt(length)) - 1n) << (bits - BigInt(length))),
      (p) => [p.network, p.length],
      (network, length) => ({ family, network, length }),
    );
  }
}
