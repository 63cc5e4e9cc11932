import { readFile } from 'node:fs/promises';
import { ConfigError } from '../../agent/src/config/config-error.js';
import { CidrError, cidrsOverlap, formatCidr, type Ipv4Cidr, parseCidr } from '../../common/cidr.js';
import { errorMessage } from '../../common/errors.js';

/**
 * The two net-conf fields the controller needs. The agent reads the same file and
 * owns the other fields; the controller ignores them so the two never disagree on
 * what is "unknown".
 */
export interface ControllerNetConf {
  /** Cluster CIDRs per address family (IPv4 only today; dual-stack adds `ipv6`). */
  readonly ipv4ClusterCidrs: readonly Ipv4Cidr[];
  /** Prefix length of each Node's podCIDR (IPv4). */
  readonly nodeCidrMaskSize: number;
}

export const DEFAULT_NODE_CIDR_MASK_SIZE = 24;

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

/** Parses net-conf JSON, keeping clusterCIDRs (or the single-string `network`) and nodeCIDRMaskSize. */
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
  const ipv4ClusterCidrs = parseClusterCidrs(record);
  const nodeCidrMaskSize = parseMaskSize(record.nodeCIDRMaskSize);
  for (const [i, cidr] of ipv4ClusterCidrs.entries()) {
    if (nodeCidrMaskSize < cidr.prefix) {
      throw new ConfigError(
        'nodeCIDRMaskSize',
        nodeCidrMaskSize,
        `must be at least the prefix length of clusterCIDRs[${i}] ${formatCidr(cidr)}`,
      );
    }
    if (nodeCidrMaskSize - cidr.prefix > 16) {
      throw new ConfigError(
        'nodeCIDRMaskSize',
        nodeCidrMaskSize,
        `splits clusterCIDRs[${i}] ${formatCidr(cidr)} into more than 65536 podCIDRs`,
      );
    }
  }
  return { ipv4ClusterCidrs, nodeCidrMaskSize };
}

function parseClusterCidrs(raw: Record<string, unknown>): Ipv4Cidr[] {
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
  for (let i = 0; i < cidrs.length; i++) {
    for (let j = i + 1; j < cidrs.length; j++) {
      if (cidrsOverlap(cidrs[i] as Ipv4Cidr, cidrs[j] as Ipv4Cidr)) {
        throw new ConfigError(`${field}[${j}]`, list[j], `overlaps ${field}[${i}]`);
      }
    }
  }
  return cidrs;
}

function parseOneCidr(field: string, item: unknown): Ipv4Cidr {
  if (typeof item !== 'string') throw new ConfigError(field, item, 'must be a CIDR string');
  if (item.includes(':')) throw new ConfigError(field, item, 'IPv6 cluster CIDRs are not supported yet');
  try {
    return parseCidr(item);
  } catch (err: unknown) {
    if (err instanceof CidrError) throw new ConfigError(field, item, err.message);
    throw err;
  }
}

function parseMaskSize(value: unknown): number {
  if (value === undefined) return DEFAULT_NODE_CIDR_MASK_SIZE;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 8 || value > 30) {
    throw new ConfigError('nodeCIDRMaskSize', value, 'must be an integer from 8 to 30');
  }
  return value;
}
