import { formatIpv4, parseCidr } from '../../../common/cidr.js';
import { formatIpPrefix, parseIpPrefix, prefixSize } from '../../../common/ip-prefix.js';

/** Inclusive ranges [start, end] of one family's addresses as unsigned integers (IPv4: numbers). */
export type Range<T extends number | bigint = number> = readonly [T, T];

/**
 * The arithmetic the range functions need of one address family: IPv4 on
 * numbers (as it always was: fast, exact below 2^53), IPv6 on bigints.
 */
export interface AddressSpace<T extends number | bigint> {
  readonly next: (v: T) => T;
  readonly prev: (v: T) => T;
  /** The last address of the /length block starting at `at`. */
  readonly blockEnd: (at: T, length: number) => T;
  /** The shortest prefix length whose block may start at `at` (family bits minus trailing zeros). */
  readonly alignedLength: (at: T) => number;
  /** "a.b.c.d/len" or "x::/len", canonical. */
  readonly formatCidr: (at: T, length: number) => string;
  /** Parses a CIDR of this family (host bits cleared) into its range; throws on anything else. */
  readonly cidrRange: (cidr: string) => Range<T>;
}

function countTrailingZeros(n: number): number {
  let z = 0;
  while (z < 32 && n % 2 ** (z + 1) === 0) z++;
  return z;
}

export const IPV4_SPACE: AddressSpace<number> = {
  next: (v) => v + 1,
  prev: (v) => v - 1,
  blockEnd: (at, length) => at + 2 ** (32 - length) - 1,
  alignedLength: (at) => (at === 0 ? 0 : 32 - Math.min(32, countTrailingZeros(at))),
  formatCidr: (at, length) => `${formatIpv4(at)}/${length}`,
  cidrRange: (cidr) => {
    const c = parseCidr(cidr, false);
    return [c.network, c.network + 2 ** (32 - c.prefix) - 1];
  },
};

export const IPV6_SPACE: AddressSpace<bigint> = {
  next: (v) => v + 1n,
  prev: (v) => v - 1n,
  blockEnd: (at, length) => at + (1n << BigInt(128 - length)) - 1n,
  alignedLength: (at) => {
    let zeros = 0;
    while (zeros < 128 && ((at >> BigInt(zeros)) & 1n) === 0n) zeros++;
    return 128 - zeros;
  },
  formatCidr: (at, length) => formatIpPrefix({ family: 6, network: at, length }),
  cidrRange: (cidr) => {
    const p = parseIpPrefix(cidr, { strict: false });
    if (p.family !== 6) throw new Error(`not an IPv6 CIDR: ${JSON.stringify(cidr)}`);
    return [p.network, p.network + prefixSize(p) - 1n];
  },
};

/** An IPv4 CIDR (host bits cleared) as its range. */
export const cidrRange = (cidr: string): Range => IPV4_SPACE.cidrRange(cidr);

const byStart = <T extends number | bigint>(a: Range<T>, b: Range<T>) =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;

/** Sorted, non-overlapping, non-adjacent ranges covering the same addresses. */
export function mergeRanges<T extends number | bigint>(
  space: AddressSpace<T>,
  ranges: readonly Range<T>[],
): Range<T>[] {
  const out: [T, T][] = [];
  for (const [s, e] of [...ranges].sort(byStart)) {
    const last = out.at(-1);
    if (!last || s > space.next(last[1])) out.push([s, e]);
    else if (e > last[1]) last[1] = e;
  }
  return out;
}

/** `ranges` minus `holes` (both any shape); the result is merged. */
export function subtractRanges<T extends number | bigint>(
  space: AddressSpace<T>,
  ranges: readonly Range<T>[],
  holes: readonly Range<T>[],
): Range<T>[] {
  let rest = mergeRanges(space, ranges);
  for (const [hs, he] of mergeRanges(space, holes)) {
    const next: Range<T>[] = [];
    for (const [s, e] of rest) {
      if (he < s || hs > e) next.push([s, e]);
      else {
        if (s < hs) next.push([s, space.prev(hs)]);
        if (he < e) next.push([space.next(he), e]);
      }
    }
    rest = next;
  }
  return rest;
}

/** The fewest CIDRs that cover a range exactly. */
export function rangeToCidrs<T extends number | bigint>(
  space: AddressSpace<T>,
  [start, end]: Range<T>,
): string[] {
  const out: string[] = [];
  let at = start;
  while (at <= end) {
    let length = space.alignedLength(at);
    while (space.blockEnd(at, length) > end) length++;
    out.push(space.formatCidr(at, length));
    at = space.next(space.blockEnd(at, length));
  }
  return out;
}

/** Interval-set elements for ranges: merged, as the fewest CIDRs, sorted as text. */
export function rangesToElements<T extends number | bigint = number>(
  ranges: readonly Range<T>[],
  space: AddressSpace<T> = IPV4_SPACE as unknown as AddressSpace<T>,
): string[] {
  return mergeRanges(space, ranges)
    .flatMap((r) => rangeToCidrs(space, r))
    .sort();
}
