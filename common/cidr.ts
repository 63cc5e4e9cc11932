import { WeftError } from './errors.js';

/** An IPv4 prefix in canonical form: network address and prefix length. */
export interface Ipv4Cidr {
  readonly network: number; // unsigned 32-bit network address
  readonly prefix: number; // 0..32
}

export class CidrError extends WeftError {
  constructor(message: string) {
    super('ECIDR', message);
  }
}

const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Parses a dotted-quad IPv4 address into an unsigned 32-bit number. */
export function parseIpv4(text: string): number {
  const m = IPV4_RE.exec(text.trim());
  if (!m) throw new CidrError(`not an IPv4 address: ${JSON.stringify(text)}`);
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) throw new CidrError(`not an IPv4 address: ${JSON.stringify(text)}`);
    value = value * 256 + octet;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

export function isIpv4(text: string): boolean {
  try {
    parseIpv4(text);
    return true;
  } catch {
    return false;
  }
}

function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/**
 * Parses "a.b.c.d/n". With `strict` (the default) host bits must be zero, as in
 * a podCIDR or cluster CIDR; without it they are cleared (an interface address).
 */
export function parseCidr(text: string, strict = true): Ipv4Cidr {
  const [addr, len, extra] = text.trim().split('/');
  if (addr === undefined || len === undefined || extra !== undefined || !/^\d{1,2}$/.test(len)) {
    throw new CidrError(`not an IPv4 CIDR: ${JSON.stringify(text)}`);
  }
  const prefix = Number(len);
  if (prefix > 32) throw new CidrError(`prefix length out of range in ${JSON.stringify(text)}`);
  const ip = parseIpv4(addr);
  const network = (ip & maskOf(prefix)) >>> 0;
  if (strict && network !== ip) {
    throw new CidrError(
      `host bits set in ${JSON.stringify(text)} (network is ${formatIpv4(network)}/${prefix})`,
    );
  }
  return { network, prefix };
}

export function formatCidr(c: Ipv4Cidr): string {
  return `${formatIpv4(c.network)}/${c.prefix}`;
}

export function cidrSize(c: Ipv4Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function cidrContains(c: Ipv4Cidr, ip: number): boolean {
  return (ip & maskOf(c.prefix)) >>> 0 === c.network;
}

/** True when `inner` lies entirely inside `outer`. */
export function cidrContainsCidr(outer: Ipv4Cidr, inner: Ipv4Cidr): boolean {
  return inner.prefix >= outer.prefix && cidrContains(outer, inner.network);
}

export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  return cidrContainsCidr(a, b) || cidrContainsCidr(b, a);
}

/** The n-th address of the prefix (0 = network address). */
export function nthAddress(c: Ipv4Cidr, n: number): number {
  if (n < 0 || n >= cidrSize(c)) throw new CidrError(`address index ${n} outside ${formatCidr(c)}`);
  return (c.network + n) >>> 0;
}

/** The i-th subnet of length `prefix` inside `c`. */
export function nthSubnet(c: Ipv4Cidr, prefix: number, i: number): Ipv4Cidr {
  if (prefix < c.prefix || prefix > 32) throw new CidrError(`cannot split ${formatCidr(c)} into /${prefix}`);
  const count = 2 ** (prefix - c.prefix);
  if (i < 0 || i >= count)
    throw new CidrError(`subnet index ${i} outside ${formatCidr(c)} split into /${prefix}`);
  return { network: (c.network + i * 2 ** (32 - prefix)) >>> 0, prefix };
}
