import type { IpFamily } from '../../common/ip.js';
import { FamilyPodCidrAllocator, type PodCidrAllocator } from './cidr-allocator.js';
import type { ControllerNetConf } from './net-conf.js';

/**
 * One allocator per family of clusterCIDRs, in the order the families first appear
 * there: that is the order of the podCIDRs patched into spec.podCIDRs, and the first
 * one becomes spec.podCIDR (Kubernetes' primary family of the Node).
 */
export function createPodCidrAllocators(conf: ControllerNetConf): PodCidrAllocator[] {
  const families = [...new Set(conf.clusterCidrs.map((c) => c.family))];
  return families.map(
    (family) =>
      new FamilyPodCidrAllocator(
        family,
        conf.clusterCidrs.filter((c) => c.family === family),
        family === 4 ? conf.nodeCidrMaskSize : conf.nodeCidrMaskSizeIpv6,
      ),
  );
}

/**
 * The configured families a Node holds no podCIDR of. Only meaningful for a Node that
 * has some podCIDR: the API server refuses any change of a non-empty spec.podCIDRs, so
 * a Node that got an IPv4 podCIDR before the cluster became dual-stack cannot be given
 * its IPv6 one (see ADR 17).
 */
export function missingFamilies(
  allocators: readonly PodCidrAllocator[],
  podCIDRs: readonly string[],
): IpFamily[] {
  return allocators.filter((a) => !podCIDRs.some((c) => a.handles(c))).map((a) => a.family);
}
