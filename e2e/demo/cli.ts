/**
 * `demo up|down`: Weft on a local cluster (3 nodes over 2 subnets, a real control plane,
 * one real agent per node, 2 pods per node made through the installed CNI). `up` leaves
 * everything running and exits; `down` removes it, also after a crash. Run through
 * scripts/demo.sh (which installs prerequisites and builds first).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../../common/log.js';
import {
  AGENT_HTTP_PORT,
  prepareAgentCredentials,
  startAgent,
  waitFor,
  writeNetConf,
} from '../cluster/agents.js';
import {
  attachCluster,
  type Cluster,
  type ClusterNode,
  destroyCluster,
  EXTERNAL,
  startCluster,
} from '../cluster/index.js';
import { addPod, CONFLIST_NAME, deletePod, type Pod, podPingMatrix } from '../cluster/pods.js';
import { loadPods, savePodRecords } from './pod-records.js';
import { upRealNodes } from './realnodes.js';

const USAGE = 'usage: demo up|down [--name demo] [--namespace-pods]';
const out = (lines: readonly string[]) => process.stdout.write(`${lines.join('\n')}\n`);

function parseArgs(argv: readonly string[]): { cmd: 'up' | 'down'; name: string; namespacePods: boolean } {
  const [cmd, ...rest] = argv;
  if (cmd !== 'up' && cmd !== 'down') throw new Error(USAGE);
  let name = 'demo';
  let namespacePods = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--namespace-pods') namespacePods = true;
    else if (arg === '--name' && rest[i + 1]) name = rest[++i] as string;
    else if (arg?.startsWith('--name=')) name = arg.slice('--name='.length);
    else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  return { cmd, name, namespacePods };
}

async function startAgents(cluster: Cluster): Promise<void> {
  const kubeconfig = await prepareAgentCredentials(cluster);
  const netConf = writeNetConf(cluster, 'demo', { network: '10.244.0.0/16', backend: { type: 'auto' } });
  for (const n of cluster.nodes)
    startAgent(cluster, n, { netConf, kubeconfig, env: { WEFT_LOG_LEVEL: 'info' } });
  await Promise.all(
    cluster.nodes.map((n) =>
      waitFor(
        `agent on ${n.name} to install ${CONFLIST_NAME}`,
        () => existsSync(join(n.dirs.cniConf, CONFLIST_NAME)),
        90_000,
      ),
    ),
  );
}

function pad(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
}

function podTable(pods: readonly Pod[]): string[] {
  const rows = [
    ['POD NETNS', 'NODE', 'NODE IP', 'POD IP'],
    ...pods.map((p) => [p.netns, p.node.name, p.node.ip, p.ip]),
  ];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  return rows.map((r) => `  ${pad(r, widths)}`);
}

/** The faster mode: bare node namespaces, agents as processes, pods as namespaces made through the CNI. */
async function upNamespacePods(name: string): Promise<number> {
  const log = createLogger('weft-demo', process.env.WEFT_LOG_LEVEL ?? 'warn');
  const t0 = Date.now();
  const cluster = await startCluster({ name, nodes: 3, subnets: 2 }, log);
  try {
    const cidrs = await cluster.waitForPodCIDRs();
    await startAgents(cluster);
    const pods = await Promise.all(cluster.nodes.flatMap((n) => ['a', 'b'].map((id) => addPod(n, id))));
    savePodRecords(cluster.runDir, pods);
    const matrix = await podPingMatrix(cluster, pods);
    const failed = matrix.filter((m) => !m.ok);
    const first = pods[0] as Pod;
    const far = pods[pods.length - 1] as Pod;
    const node1 = cluster.nodes[0] as ClusterNode;
    out([
      `Weft demo "${cluster.name}" is up (${((Date.now() - t0) / 1000).toFixed(1)}s): 3 nodes on 2 subnets, backend auto`,
      ...cluster.nodes.map(
        (n) => `  ${n.name}  ${n.ip}  podCIDR ${cidrs.get(n.name)?.join(',') ?? '-'}  netns ${n.netns}`,
      ),
      '',
      ...podTable(pods),
      '',
      `ping matrix: ${matrix.length - failed.length}/${matrix.length} pod→pod pairs answered`,
      ...failed.map((f) => `  NO ANSWER ${f.from} → ${f.to}`),
      '',
      'poke at it:',
      `  ip netns exec ${first.netns} ping -c 3 ${far.ip}   # pod → pod across subnets (VXLAN)`,
      `  ip netns exec ${first.netns} ping -c 3 ${EXTERNAL.ip}   # pod → external host (masqueraded)`,
      `  ip netns exec ${node1.netns} ip route   # Weft's routes carry proto 87`,
      `  ip netns exec ${node1.netns} curl -s localhost:${AGENT_HTTP_PORT}/metrics | grep ^weft_`,
      `  ${cluster.binDir}/kubectl --kubeconfig ${cluster.adminKubeconfig} get nodes -o wide`,
      `  agent logs: ${join(cluster.runDir, 'logs')}`,
      'remove everything: sudo bash scripts/demo.sh down',
    ]);
    return failed.length === 0 ? 0 : 1;
  } catch (err) {
    await cluster.stop({ keepLogs: true }).catch(() => undefined);
    throw err;
  }
}

async function down(name: string): Promise<number> {
  let cluster: Cluster | undefined;
  try {
    cluster = attachCluster(name);
  } catch {
    // No usable state (crashed early): remove whatever carries the name.
  }
  if (cluster && !cluster.realNodes) {
    const pods = loadPods(cluster);
    const results = await Promise.allSettled(pods.map((p) => deletePod(p)));
    const failed = results.filter((r) => r.status === 'rejected').length;
    out([`CNI DEL for ${pods.length - failed}/${pods.length} pods`]);
  }
  await destroyCluster(name);
  out([`demo "${name}" removed`]);
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  const { cmd, name, namespacePods } = parseArgs(argv);
  if (cmd === 'down') return down(name);
  if (namespacePods) return upNamespacePods(name);
  const { lines, ok } = await upRealNodes(
    name,
    createLogger('weft-demo', process.env.WEFT_LOG_LEVEL ?? 'warn'),
  );
  out(lines);
  return ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
