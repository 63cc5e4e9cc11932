/** The agent's CNI side: what main.ts wires. */

export { type InstallCniOptions, type InstallResult, installCniFiles, uninstallCniFiles } from './install.js';
export { createIpRunner, type IpRunner } from './ip-runner.js';
export { hostVethName } from './names.js';
export { type CniServer, type CniServerOptions, startCniServer } from './server.js';
