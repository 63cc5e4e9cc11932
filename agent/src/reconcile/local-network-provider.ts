import type { DatapathConfig } from '../datapath/types.js';
import type { LocalNetworkProvider } from '../local-network.js';
import type { ReconcileLoop } from './loop.js';

/**
 * What the CNI server asks for: this node's pod network as last programmed.
 * undefined until the first successful reconcile (no podCIDR yet, or the
 * datapath not up), which the CNI side turns into "try again later".
 */
export function createLocalNetworkProvider(
  loop: ReconcileLoop,
  config: DatapathConfig,
): LocalNetworkProvider {
  return () => {
    const result = loop.lastResult;
    const self = loop.lastSelf;
    if (!result || !self || self.podCIDRs.length === 0) return undefined;
    return {
      nodeName: self.name,
      podCIDRs: self.podCIDRs,
      clusterCIDRs: config.clusterCIDRs,
      bridge: config.bridgeName,
      mtu: result.mtu,
    };
  };
}
