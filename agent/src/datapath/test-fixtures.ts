/** Shared inputs of the datapath's pure unit tests (not a test file itself). */
import type { Backend, DatapathConfig } from './types.js';

/** A datapath config for `backend` with the test defaults (VNI 1, port 8472, cluster 10.244.0.0/16). */
export function testConfig(backend: Backend, more: Partial<DatapathConfig> = {}): DatapathConfig {
  return {
    backend,
    clusterCIDRs: ['10.244.0.0/16'],
    vxlanVNI: 1,
    vxlanPort: 8472,
    mtu: undefined,
    masquerade: true,
    nonMasqueradeCIDRs: [],
    networkPolicy: false,
    bridgeName: 'weft0',
    vxlanName: 'weft.vxlan',
    encryption: backend === 'wireguard' ? 'all' : 'none',
    wireguardPort: 51820,
    wireguardName: 'weft.wg',
    ...more,
  };
}

/** Deterministic pseudo-random numbers (a fixed LCG) so failures reproduce. */
export function lcg(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}
