/**
 * `cluster up|down|status`: the local cluster from a shell. `up` leaves the cluster
 * running (processes detached, recorded in <runDir>/state.json) and exits; `down`
 * removes it, also after a crashed `up`. Human output on stdout, logs on stderr.
 */
import { createLogger, type Logger } from '../../common/log.js';
import { type CliCommand, parseCliArgs } from './cli-args.js';
import type { Cluster } from './cluster.js';
import { nodeIps } from './plan.js';
import { ClusterError } from './spec.js';
import { startCluster } from './start.js';
import { readClusterStatus } from './status.js';
import { destroyCluster } from './teardown.js';

async function up(c: Extract<CliCommand, { cmd: 'up' }>, log: Logger): Promise<number> {
  // Ctrl-C / SIGTERM abort the start (startCluster tears down what it made) or, once
  // it is up, remove the cluster; a second signal exits at once.
  const abort = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (++signals > 1) process.exit(130);
    process.stderr.write(`\n${sig}: tearing down cluster ${c.spec.name ?? 'e2e'} (again to quit at once)\n`);
    abort.abort(new ClusterError('EINTERRUPTED', `interrupted by ${sig}`));
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  const t0 = Date.now();
  let cluster: Cluster;
  try {
    cluster = await startCluster(c.spec, log, { signal: abort.signal });
  } catch (err) {
    if (!abort.signal.aborted) throw err;
    await destroyCluster(c.spec.name ?? 'e2e', c.spec.runRoot, { log }); // logs too: the user asked to stop
    return 130;
  }
  try {
    const cidrs =
      c.spec.allocateNodeCidrs === false ? undefined : await cluster.waitForPodCIDRs(60_000, abort.signal);
    abort.signal.throwIfAborted();
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    const lines = [
      `cluster ${cluster.name} is up (${secs}s); run dir ${cluster.runDir}`,
      `  export KUBECONFIG=${cluster.adminKubeconfig}`,
      `  kubectl: ${cluster.binDir}/kubectl`,
      `  API server (from node namespaces): ${cluster.apiServerURL}`,
      ...cluster.nodes.map(
        (n) =>
          `  ${n.name}  netns ${n.netns}  ${n.ip} (${n.subnet})${nodeIps(n)
            .slice(1)
            .map((ip) => ` ${ip}`)
            .join('')}  podCIDR ${cidrs?.get(n.name)?.join(',') ?? '-'}`,
      ),
      `  external host: netns ${cluster.external.netns} ${cluster.external.ip}`,
      `remove with: npm run cluster -- down --name ${cluster.name}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } catch (err) {
    await cluster.stop({ keepLogs: !abort.signal.aborted });
    if (abort.signal.aborted) return 130;
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
