import { Address4, Address6 } from 'ip-address';
import { CidrError } from './cidr.js';
import { errorMessage } from './errors.js';

/** An address family, as Kubernetes and the kernel number them (AF_INET / AF_INET6 aside). */
export type IpFamily = 4 | 6;

/** One address of either family; `value` is the address as an unsigned integer. */
export interface IpAddress {
  readonly family: IpFamily;
  readonly value: bigint;
}

export function familyBits(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}

/** The label used in metrics and logs: "ipv4" or "ipv6". */
export function familyName(family: IpFamily): 'ipv4' | 'ipv6' {
  return family === 4 ? 'ipv4' : 'ipv6';
}

const MAPPED_PREFIX = 0xffffn; // ::ffff:0:0/96, IPv4-mapped IPv6 addresses

/**
 * Parses one address, or says why not. Syntax is the library's (ip-address); the
 * refusals are ours: zone ids ("fe80::1%eth0": a pod or node address has none),
 * the dotted IPv4 tail of IPv6 ("::ffff:1.2.3.4", "::1.2.3.4") and any IPv4-mapped
 * IPv6 address (Go's net package, and so Kubernetes, reads "::ffff:1.2.3.4" as the
 * IPv4 address 1.2.3.4: the same text would be of two families). IPv4 octets with
 * leading zeros are refused by the library (octal or decimal? Go refuses them too).
 */
export function parseIpOrReason(text: string): IpAddress | string {
  const t = text.trim();
  if (t.includes('/')) return 'an address has no /length';
  if (t.includes('%')) return 'zone ids (%name) are not allowed';
  if (!t.includes(':')) {
    const value = libraryValue(() => new Address4(t).bigInt());
    return typeof value === 'string' ? `not an IPv4 address (${value})` : { family: 4, value };
  }
  if (t.includes('.'))
    return 'IPv4-mapped or -compatible IPv6 forms are not accepted; write the IPv4 address';
  const value = libraryValue(() => new Address6(t).bigInt());
  if (typeof value === 'string') return `not an IPv6 address (${value})`;
  if (value >> 32n === MAPPED_PREFIX) {
    return `IPv4-mapped IPv6 address; write the IPv4 address ${formatIp({ family: 4, value: value & 0xffffffffn })}`;
  }
  return { family: 6, value };
}

/** The library's value, or its error message (it throws AddressError on bad syntax). */
function libraryValue(parse: () => bigint): bigint | string {
  try {
    return parse();
  } catch (err: unknown) {
    return errorMessage(err);
  }
}

/** Parses an IPv4 or IPv6 address; throws a CidrError naming the text. */
export function parseIp(text: string): IpAddress {
  const parsed = parseIpOrReason(text);
  if (typeof parsed === 'string') throw new CidrError(`bad IP address ${JSON.stringify(text)}: ${parsed}`);
  return parsed;
}

/** Canonical text: dotted quad, or RFC 5952 (lowercase, longest zero run compressed). */
export function formatIp(ip: IpAddress): string {
  return ip.family === 4
    ? Address4.fromBigInt(ip.value).correctForm()
    : Address6.fromBigInt(ip.value).correctForm();
}

/** The family of an address or prefix text ("10.0.0.1", "fd00::/64"), undefined if it is neither. */
export function ipFamilyOf(text: string): IpFamily | undefined {
  const [addr, length, extra] = text.trim().split('/');
  if (addr === undefined || extra !== undefined) return undefined;
  if (length !== undefined && !/^\d{1,3}$/.test(length)) return undefined;
  const parsed = parseIpOrReason(addr);
  if (typeof parsed === 'string') return undefined;
  return length === undefined || Number(length) <= familyBits(parsed.family) ? parsed.family : undefined;
}

/**
 * "host:port" for a URL or a socket address: an IPv6 address in brackets ("[fd00::1]:8473"),
 * anything else (IPv4, a name) as it is ("10.0.0.1:8473").
 */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
