/**
 * The agent's CNI server alone, as a child process for crash tests:
 * `node cni-agent-child.js <socketPath> <stateDir> <nodeNetns> [podCIDR,podCIDR]`. Prints
 * "listening" on stdout once it serves requests.
 */
import { Registry } from 'prom-client';
import { silentLogger } from '../../../common/log.js';
import { startCniServer } from '../../src/cni/server.js';
import { localNetworkFor } from './cni-fixture.js';

const [socketPath, stateDir, nodeNetns, podCIDRs] = process.argv.slice(2);
if (!socketPath || !stateDir || !nodeNetns) {
  process.stderr.write('usage: cni-agent-child <socketPath> <stateDir> <nodeNetns>\n');
  process.exit(2);
}
const server = await startCniServer({
  socketPath,
  stateDir,
  localNetwork: () => localNetworkFor(nodeNetns, podCIDRs ? podCIDRs.split(',') : undefined),
  log: silentLogger(),
  registry: new Registry(),
  hostNetns: nodeNetns,
});
process.stdout.write('listening\n');
process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
