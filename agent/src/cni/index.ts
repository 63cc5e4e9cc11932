/** The agent's CNI side: what main.ts wires. */
export { type CniServer, type CniServerOptions, startCniServer } from './server.js';
export { installCniFiles, uninstallCniFiles, type InstallCniOptions, type InstallResult } from './install.js';
export { createIpRunner, type IpRunner } from './ip-runner.js';
export { hostVethName } from './names.js';
