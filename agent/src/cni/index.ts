/** The agent's CNI side: what main.ts wires. */

export {
  CNI_SOCKET_NAME,
  type CniExtension,
  type CniExtensionOptions,
  createCniExtension,
  defaultShimPath,
} from './extension.js';
export { type InstallCniOptions, type InstallResult, installCniFiles, uninstallCniFiles } from './install.js';
export { createIpRunner, type IpRunner } from './ip-runner.js';
export type { IpamUsage } from './metrics.js';
export { hostVethName } from './names.js';
export { ensurePortmap, PORTMAP_SOURCE_DIRS, type PortmapOutcome } from './portmap.js';
export { type CniServer, type CniServerOptions, startCniServer } from './server.js';
