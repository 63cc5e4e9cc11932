/** Shared inputs of the datapath's pure unit tests (not a test file itself). */
import type { CommandRunner } from './netlink.js';
import type { DatapathState } from './state.js';
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

/** A kernel with nothing of Weft's, as observe would read it. */
export const EMPTY_STATE: DatapathState = {
  bridge: undefined,
  vxlan: undefined,
  routes: [],
  replyRoutes: [],
  rules: [],
  neighbours: [],
  fdb: [],
  sysctls: new Map(),
  nft: undefined,
};

/** A command runner that answers `addr show` with `addrs`, `-6 route show` with `routes6`, the rest `[]`. */
export function fakeIpRunner(addrs: string, routes6: string): { calls: string[]; run: CommandRunner } {
  const calls: string[] = [];
  const run: CommandRunner = async (cmd, args) => {
    const line = [cmd, ...args].join(' ');
    calls.push(line);
    const stdout = line.includes('addr show') ? addrs : line.includes('-6 route show') ? routes6 : '[]';
    return { exitCode: 0, stdout, stderr: '' };
  };
  return { calls, run };
}
