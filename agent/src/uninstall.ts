import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../common/log.js';
import type { AgentOptions } from './config/agent-options.js';
import { ConfigError } from './config/config-error.js';
import { loadNetConf, type NetConf } from './config/net-conf.js';
import type { DatapathConfig } from './datapath/types.js';

export const CNI_CONFLIST_NAME = '10-weft.conflist';
export const CNI_BINARY_NAME = 'weft';

/** What uninstall needs from the datapath. */
export interface DatapathUninstaller {
  uninstall(config: DatapathConfig): Promise<void>;
}

/** The DatapathConfig the agent programs with: net-conf plus the device names from options. */
export function computeDatapathConfig(netConf: NetConf, opts: AgentOptions): DatapathConfig {
  return {
    backend: netConf.backend,
    clusterCIDRs: netConf.clusterCIDRs,
    vxlanVNI: netConf.vxlanVNI,
    vxlanPort: netConf.vxlanPort,
    encryption: netConf.encryption,
    wireguardPort: netConf.wireguardPort,
    mtu: netConf.mtu,
    masquerade: netConf.masquerade,
    nonMasqueradeCIDRs: netConf.nonMasqueradeCIDRs,
    networkPolicy: netConf.networkPolicy,
    bridgeName: opts.bridgeName,
    vxlanName: opts.vxlanName,
    wireguardName: opts.wireguardName,
  };
}

/** The files and directories Weft owns on a node, removed by uninstall. */
export function weftOwnedPaths(opts: AgentOptions): string[] {
  return [
    join(opts.cniConfDir, CNI_CONFLIST_NAME),
    join(opts.cniBinDir, CNI_BINARY_NAME),
    opts.stateDir,
    opts.runDir,
  ];
}

/**
 * `weft-agent --uninstall`: removes Weft's devices, routes (main table and
 * table 87), its fwmark rule, neighbours, FDB entries and nftables table
 * (datapath.uninstall), then its CNI files, state and
 * run directories. Idempotent: a second run finds nothing and succeeds. The
 * net-conf is optional here; without it the device names alone identify Weft's state.
 */
export async function runUninstall(
  opts: AgentOptions,
  datapath: DatapathUninstaller,
  log: Logger,
): Promise<void> {
  let netConf: NetConf;
  try {
    netConf = await loadNetConf(opts.netConfPath);
  } catch (err: unknown) {
    if (!(err instanceof ConfigError)) throw err;
    log.warn({ field: err.field, op: 'uninstall' }, 'net-conf unusable; uninstalling by device names only');
    netConf = {
      clusterCIDRs: ['0.0.0.0/32'],
      backend: 'auto',
      vxlanVNI: 1,
      vxlanPort: 8472,
      encryption: 'none',
      wireguardPort: 51820,
      mtu: undefined,
      masquerade: true,
      nonMasqueradeCIDRs: [],
      resyncSeconds: 30,
      networkPolicy: true,
    };
  }
  await datapath.uninstall(computeDatapathConfig(netConf, opts));
  for (const path of weftOwnedPaths(opts)) {
    if (path === '/' || path.split('/').filter(Boolean).length < 2) {
      log.warn({ path, op: 'uninstall' }, 'refusing to remove a top-level directory');
      continue;
    }
    await rm(path, { recursive: true, force: true });
  }
  log.info({ op: 'uninstall' }, 'weft removed from this node');
}
