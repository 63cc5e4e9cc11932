/**
 * `cluster up|down|status`: the local cluster from a shell. `up` leaves the cluster
 * running (processes detached, recorded in <runDir>/state.json) and exits; `down`
 * removes it, also after a crashed `up`. Human output on stdout, logs on stderr.
 */
import { createLogger, type Logger } from '../../common/log.js';
import { type CliCommand, parseCliArgs } from './cli-args.js';
import { ClusterError } from './spec.js';
import { startCluster } from './start.js';
import { readClusterStatus } from './status.js';
import { destroyCluster } from './teardown.js';

async function up(c: Extract<CliCommand, { cmd: 'up' }>, log: Logger): Promise<number> {
  const name = c.spec.name ?? 'e2e';
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\n${sig}: tearing down cluster ${name}\n`);
    destroyCluster(name, c.spec.runRoot, { log })
      .catch((err: unknown) => log.error({ err }, 'teardown failed'))
      .finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  const t0 = Date.now();
  const cluster = await startCluster(c.spec, log);
  try {
    const cidrs = c.spec.allocateNodeCidrs === false ? undefined : await cluster.waitForPodCIDRs(60_000);
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    const lines = [
      `cluster ${cluster.name} is up (${secs}s); run dir ${cluster.runDir}`,
      `  export KUBECONFIG=${cluster.adminKubeconfig}`,
      `  kubectl: ${cluster.binDir}/kubectl`,
      `  API server (from node namespaces): ${cluster.apiServerURL}`,
      ...cluster.nodes.map(
        (n) =>
          `  ${n.name}  netns ${n.netns}  ${n.ip} (${n.subnet})  podCIDR ${cidrs?.get(n.name)?.join(',') ?? '-'}`,
      ),
      `  external host: netns ${cluster.external.netns} ${cluster.external.ip}`,
      `remove with: npm run cluster -- down --name ${cluster.name}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } catch (err) {
    await cluster.stop({ keepLogs: true });
    throw err;
  }
}

async function status(name: string, runRoot: string | undefined): Promise<number> {
  const s = await readClusterStatus(name, runRoot);
  const lines = [
    `cluster ${s.name}: ${s.phase}; API ${s.apiReady ? 'ready' : 'not answering'}; run dir ${s.runDir}`,
  ];
  if (s.adminKubeconfig) lines.push(`  export KUBECONFIG=${s.adminKubeconfig}`);
  for (const p of s.processes)
    lines.push(`  ${p.alive ? 'running' : 'DEAD   '} ${p.id} pid ${p.pid}  log ${p.logFile}`);
  for (const ns of s.namespaces) lines.push(`  netns ${ns.name}${ns.present ? '' : ' (missing)'}`);
  for (const n of s.nodes) lines.push(`  node ${n.name} ${n.ip} podCIDRs ${n.podCIDRs.join(',') || '-'}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  const healthy = s.phase === 'running' && s.apiReady && s.processes.every((p) => p.alive);
  return healthy ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const log = createLogger('weft-cluster', process.env.WEFT_LOG_LEVEL ?? 'warn');
  const c = parseCliArgs(argv);
  switch (c.cmd) {
    case 'up':
      return up(c, log);
    case 'down':
      await destroyCluster(c.name, c.runRoot, { keepLogs: c.keepLogs, log });
      process.stdout.write(`cluster ${c.name} removed\n`);
      return 0;
    case 'status':
      return status(c.name, c.runRoot);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const msg =
      err instanceof ClusterError
        ? `${err.code}: ${err.message}`
        : err instanceof Error
          ? err.stack
          : String(err);
    process.stderr.write(`cluster: ${msg}\n`);
    process.exit(1);
  },
);
