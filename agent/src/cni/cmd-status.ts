import { errorMessage } from '../../../common/errors.js';
import { type CniContext, requireLocalNetwork } from './context.js';
import { CniCode, CniError } from './errors.js';
import type { WeftNetConf } from './netconf.js';
import { type CniVersion, SUPPORTED_CNI_VERSIONS } from './versions.js';

/** STATUS: success once the pod network is ready and the network's IPAM state is loaded; 50 before. */
export async function cmdStatus(ctx: CniContext, conf: WeftNetConf): Promise<undefined> {
  requireLocalNetwork(ctx, CniCode.notAvailable);
  try {
    await ctx.ipams.get(conf.name);
  } catch (err) {
    throw new CniError(CniCode.notAvailable, 'IPAM not available', errorMessage(err), { cause: err });
  }
  return undefined;
}

/** VERSION: the versions this server speaks. */
export function cmdVersion(cniVersion: CniVersion): object {
  return { cniVersion, supportedVersions: [...SUPPORTED_CNI_VERSIONS] };
}
