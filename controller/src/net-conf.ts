import { readFile } from 'node:fs/promises';
import {
  type NodeCidrMaskSizes,
  parseClusterCidrList,
  parseNodeCidrMaskSizes,
} from '../../agent/src/config/cluster-cidrs.js';
import { ConfigError } from '../../agent/src/config/config-error.js';
import type { Ipv4Cidr } from '../../common/cidr.js';
import { errorMessage } from '../../common/errors.js';
import type { IpPrefix } from '../../common/ip-prefix.js';

export {
  DEFAULT_NODE_CIDR_MASK_SIZE,
  DEFAULT_NODE_CIDR_MASK_SIZE_IPV6,
} from '../../agent/src/config/cluster-cidrs.js';

/**
 * The net-conf fields the controller needs. The agent reads the same file and owns
 * the other fields; the controller ignores them so the two never disagree on what is
 * "unknown". The cluster CIDR and mask size rules are the agent's own
 * (agent/src/config/cluster-cidrs.ts), so both accept and refuse the same values.
 */
export interface ControllerNetConf extends NodeCidrMaskSizes {
  /** Every cluster CIDR in the order of clusterCIDRs: the order of each Node's spec.podCIDRs. */
  readonly clusterCidrs: readonly IpPrefix[];
  /** The IPv4 ones, as common/cidr.ts prefixes. */
  readonly ipv4ClusterCidrs: readonly Ipv4Cidr[];
}

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
 * nodeCIDRMaskSize and nodeCIDRMaskSizeIPv6: the list rules the agent applies too (an
 * IPv6-only list included: each Node then gets one IPv6 podCIDR, ADR 19).
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
  const clusterCidrs = parseClusterCidrList(record).cidrs;
  const masks = parseNodeCidrMaskSizes(record, clusterCidrs);
  const ipv4ClusterCidrs = clusterCidrs
    .filter((c) => c.family === 4)
    .map((c) => ({ network: Number(c.network), prefix: c.length }));
  return { clusterCidrs, ipv4ClusterCidrs, ...masks };
}
