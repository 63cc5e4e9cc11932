import { errorMessage } from '../../../common/errors.js';
import { type CniContext, requireLocalNetwork } from './context.js';
import { CniCode, CniError } from './errors.js';
import type { Ipam } from './ipam.js';
import type { WeftNetConf } from './netconf.js';
import { type CniVersion, SUPPORTED_CNI_VERSIONS } from './versions.js';

/**
 * STATUS: success when an ADD could be served now — the pod network is ready,
 * the network's IPAM state is loaded and has a free address; 50 otherwise.
 */
export async function cmdStatus(ctx: CniContext, conf: WeftNetConf): Promise<undefined> {
  const { ranges } = requireLocalNetwork(ctx, CniCode.notAvailable);
  let ipam: Ipam;
  try {
    ipam = await ctx.ipams.get(conf.name);
  } catch (err) {
    throw new CniError(CniCode.notAvailable, 'IPAM not available', errorMessage(err), { cause: err });
  }
  // An ADD takes one address from every range.
  for (const range of ranges) {
    const { allocated, capacity } = ipam.usage([range]);
    if (allocated >= capacity)
      throw new CniError(
        CniCode.notAvailable,
        'no free pod address',
        `all ${capacity} addresses of ${range.cidr} are allocated`,
      );
  }
  return undefined;
}

/** VERSION: the versions this server speaks. */
export function cmdVersion(cniVersion: CniVersion): object {
  return { cniVersion, supportedVersions: [...SUPPORTED_CNI_VERSIONS] };
}
