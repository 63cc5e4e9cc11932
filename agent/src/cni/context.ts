import type { Logger } from '../../../common/log.js';
import type { LocalNetwork, LocalNetworkProvider } from '../local-network.js';
import type { PodGate } from '../pod-gate.js';
import { CniCode, CniError } from './errors.js';
import { computeRanges, type IpamRange, primaryFamilyOf } from './ipam-range.js';
import type { IpamSet } from './ipam-set.js';
import type { AttachmentLock } from './keyed-lock.js';
import type { VethPlumbing } from './veth-plumbing.js';

/** What the CNI command functions work with; built once by the server. */
export interface CniContext {
  readonly localNetwork: LocalNetworkProvider;
  readonly ipams: IpamSet;
  readonly plumbing: VethPlumbing;
  readonly locks: AttachmentLock;
  /** ADD of a Kubernetes pod returns only once the gate admits it (its policy verdict is in force). */
  readonly podGate: PodGate;
  readonly log: Logger;
}

/**
 * The node's pod network and its IPAM ranges (one per family), or a CniError
 * with `code` when not ready; the error names what is missing or wrong for
 * each family (the cluster's primary family is required: IPv4, or IPv6 in an
 * IPv6-only cluster; IPv6 beside IPv4 is optional).
 */
export function requireLocalNetwork(
  ctx: CniContext,
  code: number = CniCode.tryAgainLater,
): {
  net: LocalNetwork;
  ranges: IpamRange[];
} {
  const net = ctx.localNetwork();
  if (!net)
    throw new CniError(
      code,
      'pod network not ready',
      'the node has no podCIDR yet or the datapath has not been set up',
    );
  const { ranges, problems } = computeRanges(net.podCIDRs, primaryFamilyOf(net.clusterCIDRs));
  if (problems.length > 0)
    throw new CniError(
      code,
      'pod network not ready',
      `${problems.join('; ')} in podCIDRs ${JSON.stringify(net.podCIDRs)}`,
    );
  return { net, ranges };
}
