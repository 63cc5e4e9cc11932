/**
 * Agent footprint (not a test): a 3-node local cluster with a real agent on
 * every node; once all are ready and settled, samples node 1's agent for a
 * window: RSS (VmRSS, every second) and CPU (utime+stime over the window).
 * Prints JSON. The 5000-peer RSS comes from bench/agent-scale.
 *
 *   node dist/bench/lib/agent-footprint.js [windowSeconds=60]
 */
import { readFileSync } from 'node:fs';
import { type Cluster, type ClusterNode, startCluster } from '../../e2e/cluster/index.js';
import {
  type AgentRun,
  prepareAgentCredentials,
  startAgent,
  stopAll,
  waitAgentReady,
  writeNetConf,
} from '../../e2e/tests/fixtures/agent-cluster.js';
import { benchNames, benchTag } from './run-tag.js';
import { median, round } from './stats.js';

const CLOCK_TICKS = 100;

/** utime+stime of `pid` in clock ticks (fields 14 and 15 of /proc/<pid>/stat). */
export function parseCpuTicks(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('/proc/<pid>/stat: no utime/stime');
  return utime + stime;
}

/** VmRSS in MiB from /proc/<pid>/status text. */
export function parseRssMiB(status: string): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  if (!m) throw new Error('/proc/<pid>/status: no VmRSS');
  return Number(m[1]) / 1024;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function sampleAgent(pid: number, windowS: number) {
  const ticks0 = parseCpuTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  const t0 = performance.now();
  const rss: number[] = [];
  for (let i = 0; i < windowS; i++) {
    rss.push(parseRssMiB(readFileSync(`/proc/${pid}/status`, 'utf8')));
    await pause(1000);
  }
  const seconds = (performance.now() - t0) / 1000;
  const ticks = parseCpuTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')) - ticks0;
  return {
    windowS: round(seconds, 1),
    rssMiB: { median: round(median(rss), 1), max: round(Math.max(...rss), 1), samples: rss.length },
    cpuPercentOfOneCore: round((ticks / CLOCK_TICKS / seconds) * 100, 2),
    cpuSeconds: round(ticks / CLOCK_TICKS, 2),
  };
}

async function main(): Promise<void> {
  const windowS = Math.max(1, Number(process.argv[2] ?? 60));
  let cluster: Cluster | undefined;
  const runs: AgentRun[] = [];
  const stop = async () => {
    await stopAll(runs);
    await cluster?.stop();
  };
  const onSignal = () => void stop().finally(() => process.exit(1));
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    cluster = await startCluster({ name: benchNames(benchTag()).footprintCluster, nodes: 3, subnets: 1 });
    const c = cluster;
    await c.waitForPodCIDRs();
    const kubeconfig = await prepareAgentCredentials(c);
    const netConf = writeNetConf(c, 'footprint', { network: '10.244.0.0/16' });
    for (const node of c.nodes) {
      runs.push(startAgent(c, node, { netConf, kubeconfig, env: { WEFT_LOG_LEVEL: 'info' } }));
    }
    for (const node of c.nodes) {
      await waitAgentReady(c, node);
    }
    await pause(5000);
    const agent = runs[0] as AgentRun;
    const figures = await sampleAgent(agent.proc.pid, windowS);
    process.stdout.write(
      `${JSON.stringify({ benchmark: 'agent-footprint', nodes: c.nodes.length, node: (agent.node as ClusterNode).name, peers: c.nodes.length - 1, ...figures }, null, 2)}\n`,
    );
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
