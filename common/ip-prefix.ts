import { CidrError, type Ipv4Cidr } from './cidr.js';
import { familyBits, formatIp, type IpAddress, type IpFamily, parseIpOrReason } from './ip.js';

/** A prefix of either family in canonical form: network address (host bits zero) and length. */
export interface IpPrefix {
  readonly family: IpFamily;
  readonly network: bigint;
  readonly length: number;
}

export interface ParsePrefixOptions {
  /**
   * true (the default): host bits must be zero and the length has no leading zeros, as
   * in a podCIDR or cluster CIDR written by a person. false: host bits are cleared (an
   * interface address) and "/024" is read as 24 (what Go's ParseCIDR accepted).
   */
  readonly strict?: boolean;
}

function maskOf(family: IpFamily, length: number): bigint {
  const bits = familyBits(family);
  return ((1n << BigInt(length)) - 1n) << BigInt(bits - length);
}

/** Parses "address/length" of either family; throws a CidrError naming the text. */
export function parseIpPrefix(text: string, options: ParsePrefixOptions = {}): IpPrefix {
  const strict = options.strict ?? true;
  const [addr, len, extra] = text.trim().split('/');
  if (addr === undefined || len === undefined || extra !== undefined) {
    throw new CidrError(`not a CIDR (address/length): ${JSON.stringify(text)}`);
  }
  if (!(strict ? /^(0|[1-9]\d{0,2})$/ : /^\d{1,3}$/).test(len)) {
    throw new CidrError(`bad prefix length in ${JSON.stringify(text)}`);
  }
  const ip = parseIpOrReason(addr);
  if (typeof ip === 'string') throw new CidrError(`bad CIDR ${JSON.stringify(text)}: ${ip}`);
  const length = Number(len);
  if (length > familyBits(ip.family)) {
    throw new CidrError(`prefix length out of range for IPv${ip.family} in ${JSON.stringify(text)}`);
  }
  const prefix: IpPrefix = { family: ip.family, network: ip.value & maskOf(ip.family, length), length };
  if (strict && prefix.network !== ip.value) {
    throw new CidrError(`host bits set in ${JSON.stringify(text)} (network is ${formatIpPrefix(prefix)})`);
  }
  return prefix;
}

export function formatIpPrefix(p: IpPrefix): string {
  return `${formatIp({ family: p.family, value: p.network })}/${p.length}`;
}

/** The IPv4 prefix of common/cidr.ts as a family-generic one. */
export function prefixFromIpv4Cidr(c: Ipv4Cidr): IpPrefix {
  return { family: 4, network: BigInt(c.network), length: c.prefix };
}

/** Number of addresses in the prefix (2^128 for ::/0). */
export function prefixSize(p: IpPrefix): bigint {
  return 1n << BigInt(familyBits(p.family) - p.length);
}

export function prefixContains(p: IpPrefix, ip: IpAddress): boolean {
  return ip.family === p.family && (ip.value & maskOf(p.family, p.length)) === p.network;
}

/** True when `inner` lies entirely inside `outer` (never across families). */
export function prefixContainsPrefix(outer: IpPrefix, inner: IpPrefix): boolean {
  return (
    inner.length >= outer.length && prefixContains(outer, { family: inner.family, value: inner.network })
  );
}

export function prefixesOverlap(a: IpPrefix, b: IpPrefix): boolean {
  return prefixContainsPrefix(a, b) || prefixContainsPrefix(b, a);
}

/** The n-th address of the prefix (0 = network address). */
export function nthAddressOf(p: IpPrefix, n: bigint): IpAddress {
  if (n < 0n || n >= prefixSize(p)) throw new CidrError(`address index ${n} outside ${formatIpPrefix(p)}`);
  return { family: p.family, value: p.network + n };
}

/** How many /length subnets `p` splits into. */
export function subprefixCount(p: IpPrefix, length: number): bigint {
  checkSplit(p, length);
  return 1n << BigInt(length - p.length);
}

/** The i-th /length subnet inside `p` (works for 2^64 of them: a /0 split into /64s). */
export function nthSubprefix(p: IpPrefix, length: number, i: bigint): IpPrefix {
  if (i < 0n || i >= subprefixCount(p, length)) {
    throw new CidrError(`subnet index ${i} outside ${formatIpPrefix(p)} split into /${length}`);
  }
  const network = p.network + (i << BigInt(familyBits(p.family) - length));
  return { family: p.family, network, length };
}

/** Index of the /length subnet of `outer` that holds `inner`'s network address. */
export function subprefixIndexOf(outer: IpPrefix, length: number, inner: IpPrefix): bigint {
  checkSplit(outer, length);
  if (!prefixContainsPrefix(outer, inner)) {
    throw new CidrError(`${formatIpPrefix(inner)} is not inside ${formatIpPrefix(outer)}`);
  }
  return (inner.network - outer.network) >> BigInt(familyBits(outer.family) - length);
}

function checkSplit(p: IpPrefix, length: number): void {
  if (!Number.isInteger(length) || length < p.length || length > familyBits(p.family)) {
    throw new CidrError(`cannot split ${formatIpPrefix(p)} into /${length}`);
  }
}
