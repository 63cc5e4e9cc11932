import { readFile } from 'node:fs/promises';
import { ConfigError } from '../../agent/src/config/config-error.js';
import { CidrError, type Ipv4Cidr, parseCidr } from '../../common/cidr.js';
import { errorMessage } from '../../common/errors.js';
import { familyBits, type IpFamily } from '../../common/ip.js';
import {
  formatIpPrefix,
  type IpPrefix,
  parseIpPrefix,
  prefixesOverlap,
  prefixFromIpv4Cidr,
} from '../../common/ip-prefix.js';

/**
 * The net-conf fields the controller needs. The agent reads the same file and owns
 * the other fields; the controller ignores them so the two never disagree on what is
 * "unknown".
 */
export interface ControllerNetConf {
  /** Every cluster CIDR in the order of clusterCIDRs: the order of each Node's spec.podCIDRs. */
  readonly clusterCidrs: readonly IpPrefix[];
  /** The IPv4 ones, as common/cidr.ts prefixes. */
  readonly ipv4ClusterCidrs: readonly Ipv4Cidr[];
  /** Prefix length of each Node's IPv4 podCIDR. */
  readonly nodeCidrMaskSize: number;
  /** Prefix length of each Node's IPv6 podCIDR. */
  readonly nodeCidrMaskSizeIpv6: number;
}

export const DEFAULT_NODE_CIDR_MASK_SIZE = 24;
export const DEFAULT_NODE_CIDR_MASK_SIZE_IPV6 = 64;

/** Reads the net-conf file named by WEFT_NET_CONF. */
export async function loadControllerNetConf(path: string): Promise<ControllerNetConf> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err: unknown) {
    throw new ConfigError('WEFT_NET_CONF', path, `cannot read net-conf: ${errorMessage(err)}`);
  }
  return parseControllerNetConf(text);
}

/**
 * Parses net-conf JSON, keeping clusterCIDRs (or the single-string `network`),
 * nodeCIDRMaskSize and nodeCIDRMaskSizeIPv6.
 */
export function parseControllerNetConf(text: string): ControllerNetConf {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err: unknown) {
    throw new ConfigError('net-conf', text.slice(0, 80), `not JSON: ${errorMessage(err)}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError('net-conf', raw, 'must be a JSON object');
  }
  const record = raw as Record<string, unknown>;
  const clusterCidrs = parseClusterCidrs(record);
  const nodeCidrMaskSize = parseMaskSize('nodeCIDRMaskSize', record.nodeCIDRMaskSize, 4);
  const nodeCidrMaskSizeIpv6 = parseMaskSize('nodeCIDRMaskSizeIPv6', record.nodeCIDRMaskSizeIPv6, 6);
  checkMaskFits('nodeCIDRMaskSize', nodeCidrMaskSize, clusterCidrs, 4);
  checkMaskFits('nodeCIDRMaskSizeIPv6', nodeCidrMaskSizeIpv6, clusterCidrs, 6);
  const ipv4ClusterCidrs = clusterCidrs
    .filter((c) => c.family === 4)
    .map((c) => ({ network: Number(c.network), prefix: c.length }));
  return { clusterCidrs, ipv4ClusterCidrs, nodeCidrMaskSize, nodeCidrMaskSizeIpv6 };
}

/** The mask must not be shorter than a cluster CIDR nor split one into more than 65536 podCIDRs. */
function checkMaskFits(field: string, mask: number, cidrs: readonly IpPrefix[], family: IpFamily): void {
  for (const [i, cidr] of cidrs.entries()) {
    if (cidr.family !== family) continue;
    if (mask < cidr.length) {
      throw new ConfigError(
        field,
        mask,
        `must be at least the prefix length of clusterCIDRs[${i}] ${formatIpPrefix(cidr)}`,
      );
    }
    if (mask - cidr.length > 16) {
      throw new ConfigError(
        field,
        mask,
        `splits clusterCIDRs[${i}] ${formatIpPrefix(cidr)} into more than 65536 podCIDRs`,
      );
    }
  }
}

/**
 * One or two cluster CIDRs, at most one per family (Kubernetes allows a Node one
 * podCIDR per family). An IPv4-only list may still hold several IPv4 CIDRs, as it
 * always could (several pools, one podCIDR per Node).
 */
function parseClusterCidrs(raw: Record<string, unknown>): IpPrefix[] {
  if (raw.clusterCIDRs !== undefined && raw.network !== undefined) {
    throw new ConfigError('network', raw.network, 'set either clusterCIDRs or network, not both');
  }
  const field = raw.network !== undefined ? 'network' : 'clusterCIDRs';
  const list = raw.network !== undefined ? [raw.network] : raw.clusterCIDRs;
  if (list === undefined) throw new ConfigError('clusterCIDRs', undefined, 'required');
  if (!Array.isArray(list) || list.length === 0) {
    throw new ConfigError(field, list, 'must be a non-empty list of CIDR strings');
  }
  const cidrs = list.map((item: unknown, i) =>
    parseOneCidr(field === 'network' ? field : `${field}[${i}]`, item),
  );
  const dualStack = cidrs.some((c) => c.family === 4) && cidrs.some((c) => c.family === 6);
  for (let j = 0; j < cidrs.length; j++) {
    const b = cidrs[j] as IpPrefix;
    for (let i = 0; i < j; i++) {
      const a = cidrs[i] as IpPrefix;
      if (a.family === b.family && (b.family === 6 || dualStack)) {
        throw new ConfigError(
          `${field}[${j}]`,
          list[j],
          `a second IPv${b.family} cluster CIDR (${field}[${i}] is one): at most one per family`,
        );
      }
      if (prefixesOverlap(a, b)) throw new ConfigError(`${field}[${j}]`, list[j], `overlaps ${field}[${i}]`);
    }
  }
  return cidrs;
}

/** IPv4 through common/cidr.ts (exactly what the agent accepts), IPv6 through common/ip-prefix.ts. */
function parseOneCidr(field: string, item: unknown): IpPrefix {
  if (typeof item !== 'string') throw new ConfigError(field, item, 'must be a CIDR string');
  try {
    return item.includes(':') ? parseIpPrefix(item) : prefixFromIpv4Cidr(parseCidr(item));
  } catch (err: unknown) {
    if (err instanceof CidrError) throw new ConfigError(field, item, err.message);
    throw err;
  }
}

function parseMaskSize(field: string, value: unknown, family: IpFamily): number {
  if (value === undefined)
    return family === 4 ? DEFAULT_NODE_CIDR_MASK_SIZE : DEFAULT_NODE_CIDR_MASK_SIZE_IPV6;
  const max = familyBits(family) - 2;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 8 || value > max) {
    throw new ConfigError(field, value, `must be an integer from 8 to ${max}`);
  }
  return value;
}
