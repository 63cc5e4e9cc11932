import { isIpv4 } from '../../../common/cidr.js';
import { errorMessage, WeftError } from '../../../common/errors.js';
import { formatIp, type IpFamily, parseIpOrReason } from '../../../common/ip.js';
import { formatIpPrefix, type IpPrefix } from '../../../common/ip-prefix.js';
import { parsePrefixOfEitherFamily } from '../config/cluster-cidrs.js';
import type { PeerNode } from '../datapath/types.js';
import { isWireguardKey } from '../wireguard/keys.js';

/** The parts of a Kubernetes Node the agent reads (everything else is dropped on arrival). */
export interface KubeNode {
  readonly metadata?: { readonly name?: string; readonly resourceVersion?: string };
  readonly spec?: { readonly podCIDR?: string; readonly podCIDRs?: readonly string[] };
  readonly status?: {
    readonly addresses?: ReadonlyArray<{ readonly type: string; readonly address: string }>;
  };
}

/** A Node (from the API or the disk cache) that cannot be used: names the field and value. */
export class NodeParseError extends WeftError {
  readonly node: string;
  readonly field: string;
  readonly value: unknown;
  constructor(node: string, field: string, value: unknown, reason: string) {
    super('ENODE', `node ${node}: invalid ${field}=${JSON.stringify(value)}: ${reason}`);
    this.node = node;
    this.field = field;
    this.value = value;
  }
}

/**
 * Turns a Kubernetes Node into {name, underlayIP, underlayIP6?, podCIDRs}. `underlayFamily` is
 * the cluster's primary family (net-conf underlayFamily): with 4 (IPv4-only and dual-stack,
 * ADR 18) underlayIP is the IPv4 InternalIP (required) and underlayIP6 the first IPv6
 * InternalIP if any; with 6 (IPv6-only, ADR 19) both are the first IPv6 InternalIP (required,
 * an IPv4 one is ignored). RFC 5952 text; podCIDRs both families, canonical, IPv4 first.
 * Anything malformed throws a NodeParseError naming the field.
 */
export function parseKubeNode(node: KubeNode, underlayFamily: IpFamily = 4): PeerNode {
  const name = node.metadata?.name;
  if (!name) throw new NodeParseError('<unnamed>', 'metadata.name', name, 'missing');
  const internal = (node.status?.addresses ?? []).filter((a) => a.type === 'InternalIP');
  const underlayIP6 = firstIpv6(internal.map((a) => a.address));
  const underlayIP =
    underlayFamily === 6 ? underlayIP6 : internal.find((a) => isIpv4(a.address))?.address.trim();
  if (underlayIP === undefined) {
    throw new NodeParseError(
      name,
      'status.addresses',
      internal.map((a) => a.address),
      underlayFamily === 6
        ? 'no IPv6 InternalIP (the cluster is IPv6-only: clusterCIDRs has only an IPv6 CIDR)'
        : 'no IPv4 InternalIP (a Node with only IPv6 InternalIPs needs an IPv6-only cluster: clusterCIDRs with only an IPv6 CIDR)',
    );
  }
  const listed = node.spec?.podCIDRs ?? (node.spec?.podCIDR ? [node.spec.podCIDR] : []);
  const field = node.spec?.podCIDRs ? 'spec.podCIDRs' : 'spec.podCIDR';
  const podCIDRs = parsePodCIDRs(name, field, listed);
  const base = { name, underlayIP };
  return underlayIP6 === undefined ? { ...base, podCIDRs } : { ...base, underlayIP6, podCIDRs };
}

/**
 * Validates a node record that did not come from the API (disk cache, gossip). underlayIP is
 * of either family (IPv6: an IPv6-only node, RFC 5952 text); such a node's underlayIP6 is the
 * same address (filled in when absent, refused when it differs).
 */
export function parsePeerRecord(value: unknown): PeerNode {
  const rec = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const name = rec.name;
  if (typeof name !== 'string' || name === '') throw new NodeParseError('<unnamed>', 'name', name, 'missing');
  const underlayIP = parseIpField(name, 'underlayIP', rec.underlayIP, true);
  let underlayIP6 =
    rec.underlayIP6 === undefined ? undefined : parseIpField(name, 'underlayIP6', rec.underlayIP6, false);
  if (underlayIP.includes(':')) {
    if (underlayIP6 !== undefined && underlayIP6 !== underlayIP) {
      throw new NodeParseError(
        name,
        'underlayIP6',
        rec.underlayIP6,
        `differs from the IPv6 underlayIP ${underlayIP}`,
      );
    }
    underlayIP6 = underlayIP;
  }
  if (!Array.isArray(rec.podCIDRs)) throw new NodeParseError(name, 'podCIDRs', rec.podCIDRs, 'not a list');
  const podCIDRs = parsePodCIDRs(name, 'podCIDRs', rec.podCIDRs);
  const node: PeerNode =
    underlayIP6 === undefined ? { name, underlayIP, podCIDRs } : { name, underlayIP, underlayIP6, podCIDRs };
  if (rec.wgPublicKey === undefined) return node;
  if (typeof rec.wgPublicKey !== 'string' || !isWireguardKey(rec.wgPublicKey)) {
    throw new NodeParseError(name, 'wgPublicKey', rec.wgPublicKey, 'not a WireGuard public key');
  }
  return { ...node, wgPublicKey: rec.wgPublicKey };
}

/** The first IPv6 address of the list in RFC 5952 text; entries that are not one are skipped. */
function firstIpv6(addresses: readonly string[]): string | undefined {
  for (const text of addresses) {
    const ip = parseIpOrReason(text);
    if (typeof ip !== 'string' && ip.family === 6) return formatIp(ip);
  }
  return undefined;
}

/**
 * An address field of a record: IPv4 as written and checked as before IPv6-only (when
 * `ipv4` allows it), IPv6 in RFC 5952 text.
 */
function parseIpField(name: string, field: string, value: unknown, ipv4: boolean): string {
  if (ipv4 && typeof value === 'string' && isIpv4(value)) return value;
  const ip = typeof value === 'string' ? parseIpOrReason(value) : 'not a string';
  if (typeof ip === 'string' || ip.family !== 6) {
    const what = ipv4 ? 'not an IPv4 or IPv6 address' : 'not an IPv6 address';
    throw new NodeParseError(name, field, value, typeof ip === 'string' ? ip : what);
  }
  return formatIp(ip);
}

/** Both families, canonical (RFC 5952 for IPv6), IPv4 first; at most one per family. */
function parsePodCIDRs(name: string, field: string, values: readonly unknown[]): string[] {
  const byFamily = new Map<number, IpPrefix>();
  for (const value of values) {
    if (typeof value !== 'string') throw new NodeParseError(name, field, value, 'not a string');
    let prefix: IpPrefix;
    try {
      prefix = parsePrefixOfEitherFamily(value);
    } catch (err: unknown) {
      throw new NodeParseError(name, field, value, errorMessage(err));
    }
    const other = byFamily.get(prefix.family);
    if (other !== undefined) {
      throw new NodeParseError(
        name,
        field,
        values,
        `two IPv${prefix.family} podCIDRs (${formatIpPrefix(other)}, ${formatIpPrefix(prefix)}): at most one per family`,
      );
    }
    byFamily.set(prefix.family, prefix);
  }
  return [4, 6].flatMap((family) => {
    const prefix = byFamily.get(family);
    return prefix === undefined ? [] : [formatIpPrefix(prefix)];
  });
}
