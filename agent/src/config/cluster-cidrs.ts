import { CidrError, parseCidr } from '../../../common/cidr.js';
import { errorMessage } from '../../../common/errors.js';
import { familyBits, type IpFamily } from '../../../common/ip.js';
import {
  formatIpPrefix,
  type IpPrefix,
  parseIpPrefix,
  prefixesOverlap,
  prefixFromIpv4Cidr,
} from '../../../common/ip-prefix.js';
import { ConfigError } from './config-error.js';

/**
 * The net-conf rules the agent and weft-controller share (both read the same file, so
 * they must agree on what a valid cluster CIDR list and podCIDR size is): the list of
 * cluster CIDRs, and nodeCIDRMaskSize / nodeCIDRMaskSizeIPv6 against it.
 */

export const DEFAULT_NODE_CIDR_MASK_SIZE = 24;
export const DEFAULT_NODE_CIDR_MASK_SIZE_IPV6 = 64;

/**
 * One prefix of either family, strict (host bits zero). IPv4 through common/cidr.ts,
 * exactly what IPv4-only Weft always accepted; IPv6 through common/ip-prefix.ts.
 * Throws a CidrError.
 */
export function parsePrefixOfEitherFamily(text: string): IpPrefix {
  return text.includes(':') ? parseIpPrefix(text) : prefixFromIpv4Cidr(parseCidr(text));
}

/** parsePrefixOfEitherFamily for a config field: a ConfigError naming `field` instead. */
export function parseConfigPrefix(field: string, item: unknown): IpPrefix {
  if (typeof item !== 'string') throw new ConfigError(field, item, 'must be a CIDR string');
  try {
    return parsePrefixOfEitherFamily(item);
  } catch (err: unknown) {
    if (err instanceof CidrError) throw new ConfigError(field, item, errorMessage(err));
    throw err;
  }
}

export interface ClusterCidrList {
  /** The field the list came from: `clusterCIDRs`, or `network` (the single-string form). */
  readonly field: 'clusterCIDRs' | 'network';
  /** In the order written (the controller assigns each Node's podCIDRs in this order). */
  readonly cidrs: readonly IpPrefix[];
}

/**
 * `clusterCIDRs` (or the single-string `network`): one or two cluster CIDRs, at most one
 * per family (Kubernetes gives a Node one podCIDR per family). An IPv4-only list may still
 * hold several IPv4 CIDRs, as it always could (several pools, one podCIDR per Node); none
 * may overlap another.
 */
export function parseClusterCidrList(raw: Readonly<Record<string, unknown>>): ClusterCidrList {
  if (raw.clusterCIDRs !== undefined && raw.network !== undefined) {
    throw new ConfigError('network', raw.network, 'set either clusterCIDRs or network, not both');
  }
  const field = raw.network !== undefined ? 'network' : 'clusterCIDRs';
  const list = raw.network !== undefined ? [raw.network] : raw.clusterCIDRs;
  if (list === undefined) {
    throw new ConfigError('clusterCIDRs', undefined, 'required (or the single-string form "network")');
  }
  if (!Array.isArray(list) || list.length === 0) {
    throw new ConfigError(field, list, 'must be a non-empty list of CIDR strings');
  }
  const cidrs = list.map((item: unknown, i) =>
    parseConfigPrefix(field === 'network' ? field : `${field}[${i}]`, item),
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
      if (prefixesOverlap(a, b)) {
        throw new ConfigError(`${field}[${j}]`, list[j], `overlaps ${field}[${i}] (${formatIpPrefix(a)})`);
      }
    }
  }
  return { field, cidrs };
}

export interface NodeCidrMaskSizes {
  /** Prefix length of each Node's IPv4 podCIDR. */
  readonly nodeCidrMaskSize: number;
  /** Prefix length of each Node's IPv6 podCIDR. */
  readonly nodeCidrMaskSizeIpv6: number;
}

/**
 * nodeCIDRMaskSize (IPv4, default 24) and nodeCIDRMaskSizeIPv6 (default 64): each an
 * integer from 8 to the family's bits minus 2, not shorter than the cluster CIDR of its
 * family and splitting it into at most 65536 podCIDRs (set or defaulted alike).
 */
export function parseNodeCidrMaskSizes(
  raw: Readonly<Record<string, unknown>>,
  cidrs: readonly IpPrefix[],
): NodeCidrMaskSizes {
  const nodeCidrMaskSize = parseMaskSize('nodeCIDRMaskSize', raw.nodeCIDRMaskSize, 4);
  const nodeCidrMaskSizeIpv6 = parseMaskSize('nodeCIDRMaskSizeIPv6', raw.nodeCIDRMaskSizeIPv6, 6);
  checkMaskFits('nodeCIDRMaskSize', nodeCidrMaskSize, cidrs, 4);
  checkMaskFits('nodeCIDRMaskSizeIPv6', nodeCidrMaskSizeIpv6, cidrs, 6);
  return { nodeCidrMaskSize, nodeCidrMaskSizeIpv6 };
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

function parseMaskSize(field: string, value: unknown, family: IpFamily): number {
  if (value === undefined)
    return family === 4 ? DEFAULT_NODE_CIDR_MASK_SIZE : DEFAULT_NODE_CIDR_MASK_SIZE_IPV6;
  const max = familyBits(family) - 2;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 8 || value > max) {
    throw new ConfigError(field, value, `must be an integer from 8 to ${max}`);
  }
  return value;
}
