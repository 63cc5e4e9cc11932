/**
 * Benchmark (not a test): one real agent in a node namespace of the local
 * cluster, with 1000 and then 5000 fake Nodes (InternalIP + podCIDR) in the real
 * API server. Measures agent start → all peers programmed, list arrival →
 * programmed, agent RSS, and the time to program one added Node. Prints JSON.
 *
 *   node_modules/.bin/tsc -p tsconfig.json && node_modules/.bin/node dist/bench/agent-scale.js [1000 5000]
 *   env: WEFT_BENCH_KEEP_LOGS=1 keeps <runDir>/logs; WEFT_BENCH_AGENT_NODE_OPTIONS sets the agent's NODE_OPTIONS;
 *   WEFT_BENCH_REPEAT=n agent runs per size (default 3; the summary gives median, min and max).
 *
 * Five Nodes are then added one after another; the first is reported on its own
 * (the first change pass of a fresh process), the other four as a median (warm).
 * "One added Node" is timed three ways: from the API create call, from the agent's
 * `node changed` log line (the watch event's arrival) to its `datapath synced` line
 * (after `ip -batch` and `bridge -batch` returned), and the sync pass alone; the
 * phases include the pass's CPU time (`cpu`), which a shared machine inflates less.
 */

import { loadavg } from 'node:os';
import { CoreV1Api, KubeConfig, type V1Node } from '@kubernetes/client-node';
import { type Cluster, type ClusterNode, startCluster } from '../e2e/cluster/index.js';
import {
  AGENT_MAIN,
  type AgentRun,
  NODE_BIN,
  prepareAgentCredentials,
  readLog,
  startAgent,
  waitFor,
  writeNetConf,
} from '../e2e/tests/fixtures/agent-cluster.js';
import { inParallel, readRss } from './lib/proc.js';
import { benchNames, benchTag } from './lib/run-tag.js';

const SELF_CIDR = '10.0.0.0/24';

function fakeNode(i: number): V1Node {
  const cidr = `10.${1 + (i >> 8)}.${i & 255}.0/24`;
  return {
    metadata: { name: `fake-${String(i).padStart(5, '0')}`, labels: { 'weft.bench/fake': 'true' } },
    spec: { podCIDR: cidr, podCIDRs: [cidr] },
    status: { addresses: [{ type: 'InternalIP', address: `100.64.${i >> 8}.${(i & 255) + 0}` }] },
  };
}

function createFakeNodes(api: CoreV1Api, from: number, to: number): Promise<void> {
  return inParallel(to - from, 24, (i) => api.createNode({ body: fakeNode(from + i) }));
}

async function syncedWithPeers(run: AgentRun, peers: number, timeoutMs: number) {
  return waitFor(
    `datapath synced with ${peers} peers`,
    () => readLog(run).find((l) => l.msg === 'datapath synced' && l.peers === peers),
    timeoutMs,
    20,
  );
}

/** Nodes added one after another per run: the first change pass is the process's first, the later ones run warm. */
const ADDED_NODES = 5;

const fakeName = (i: number) => fakeNode(i).metadata?.name as string;

/** Creates one fake Node and times it until the agent has programmed it. */
async function addOneNode(api: CoreV1Api, run: AgentRun, n: number, k: number) {
  const index = 60_000 + n + k;
  const t0 = Date.now();
  await api.createNode({ body: fakeNode(index) });
  const one = await syncedWithPeers(run, n + k, 30_000);
  const log = readLog(run);
  const event = log.find((l) => l.msg === 'node changed' && l.node === fakeName(index));
  const changed = log.find((l) => l.msg === 'datapath changed' && (l.time as number) >= (event?.time ?? t0));
  return {
    apiToProgrammedMs: (one.time as number) - t0,
    watchEventToProgrammedMs: event ? (one.time as number) - (event.time as number) : null,
    syncPassMs: Math.round(one.durationMs as number),
    phases: changed
      ? {
          desired: changed.desiredMs,
          plan: changed.planMs,
          apply: changed.applyMs,
          cpu: changed.cpuMs,
          trusted: changed.trusted,
        }
      : null,
  };
}

async function measure(
  cluster: Cluster,
  api: CoreV1Api,
  node: ClusterNode,
  kubeconfig: string,
  netConf: string,
  n: number,
) {
  const reset = await cluster.execInNode(node, [NODE_BIN, AGENT_MAIN, '--uninstall'], {
    env: {
      WEFT_NET_CONF: netConf,
      WEFT_STATE_DIR: node.dirs.state,
      WEFT_RUN_DIR: node.dirs.run,
      WEFT_CNI_BIN_DIR: node.dirs.cniBin,
      WEFT_CNI_CONF_DIR: node.dirs.cniConf,
      NODE_TEST_CONTEXT: '',
    },
    timeoutMs: 120_000,
  });
  if (reset.code !== 0) throw new Error(`uninstall before run failed: ${reset.stderr}`);
  const started = Date.now();
  const run = startAgent(cluster, node, {
    netConf,
    kubeconfig,
    env: { WEFT_LOG_LEVEL: 'info', NODE_OPTIONS: process.env.WEFT_BENCH_AGENT_NODE_OPTIONS ?? '' },
  });
  try {
    const full = await syncedWithPeers(run, n, 120_000);
    const fullChange = readLog(run).find((l) => l.msg === 'datapath changed');
    const programmedAt = full.time as number;
    const listed = readLog(run).find((l) => l.msg === 'node list synced');
    const routeCount = (await cluster.execInNode(node, ['ip', '-o', 'route', 'show', 'proto', '87'])).stdout
      .trim()
      .split('\n').length;
    await new Promise((r) => setTimeout(r, 1000));
    const memory = readRss(run.proc.pid);

    const added = [];
    for (let k = 1; k <= ADDED_NODES; k++) {
      added.push(await addOneNode(api, run, n, k));
      await new Promise((r) => setTimeout(r, 200));
    }
    for (let k = 1; k <= ADDED_NODES; k++) await api.deleteNode({ name: fakeName(60_000 + n + k) });
    const [first, ...later] = added;
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? null;
    return {
      nodes: n,
      agentStartToProgrammedMs: programmedAt - started,
      listArrivalToProgrammedMs: Math.round(full.durationMs as number),
      nodeListSyncedLogToProgrammedMs: listed ? programmedAt - (listed.time as number) : null,
      kernelRoutesProto87: routeCount,
      ...memory,
      oneAddedNodeApiToProgrammedMs: first?.apiToProgrammedMs,
      oneAddedNodeWatchEventToProgrammedMs: first?.watchEventToProgrammedMs,
      oneAddedNodeSyncPassMs: first?.syncPassMs,
      oneAddedNodePhasesMs: first?.phases,
      laterAddedNodesApiToProgrammedMedianMs: med(later.map((x) => x.apiToProgrammedMs)),
      laterAddedNodesWatchEventToProgrammedMedianMs: med(
        later.map((x) => x.watchEventToProgrammedMs).filter((x): x is number => x !== null),
      ),
      laterAddedNodesSyncPassMedianMs: med(later.map((x) => x.syncPassMs)),
      changesInFullPass: full.changes,
      fullPassPhasesMs: fullChange
        ? {
            desired: fullChange.desiredMs,
            observe: fullChange.observeMs,
            plan: fullChange.planMs,
            apply: fullChange.applyMs,
            cpu: fullChange.cpuMs,
          }
        : null,
      loadAvg1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    };
  } finally {
    await run.proc.stop('SIGTERM', 10_000);
  }
}

/** Median [min–max] of every numeric figure over the runs of one size. */
function summarise(runs: ReadonlyArray<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { nodes: runs[0]?.nodes, runs: runs.length };
  for (const key of Object.keys(runs[0] ?? {})) {
    const xs = runs.map((r) => r[key]).filter((x): x is number => typeof x === 'number');
    if (key === 'nodes' || xs.length === 0) continue;
    xs.sort((a, b) => a - b);
    out[key] = { median: xs[Math.floor(xs.length / 2)], min: xs[0], max: xs.at(-1) };
  }
  return out;
}

async function main(): Promise<void> {
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((x) => x > 0);
  if (sizes.length === 0) sizes.push(1000, 5000);
  const cluster = await startCluster({
    name: benchNames(benchTag()).scaleCluster,
    nodes: 1,
    subnets: 1,
    allocateNodeCidrs: false,
  });
  try {
    const node = cluster.nodes[0] as ClusterNode;
    await cluster.kubectl([
      'patch',
      'node',
      node.name,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { podCIDR: SELF_CIDR, podCIDRs: [SELF_CIDR] } }),
    ]);
    const kubeconfig = await prepareAgentCredentials(cluster);
    const netConf = writeNetConf(cluster, 'bench', { network: '10.0.0.0/8' });
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.adminKubeconfig);
    const api = kc.makeApiClient(CoreV1Api);
    const repeat = Math.max(1, Number(process.env.WEFT_BENCH_REPEAT ?? 3));
    const runs: Array<Record<string, unknown>> = [];
    const summary = [];
    let created = 0;
    for (const n of sizes.sort((a, b) => a - b)) {
      const t = Date.now();
      await createFakeNodes(api, created, n);
      created = n;
      process.stderr.write(`created ${n} fake nodes in ${Date.now() - t} ms\n`);
      const perSize = [];
      for (let i = 0; i < repeat; i++) {
        perSize.push(await measure(cluster, api, node, kubeconfig, netConf, n));
        process.stderr.write(`${JSON.stringify(perSize.at(-1))}\n`);
      }
      runs.push(...perSize);
      summary.push(summarise(perSize));
    }
    process.stdout.write(
      `${JSON.stringify({ benchmark: 'agent-scale', backend: 'auto (all fake peers via VXLAN)', summary, runs }, null, 2)}\n`,
    );
  } finally {
    await cluster.stop({ keepLogs: process.env.WEFT_BENCH_KEEP_LOGS === '1' });
  }
}

await main();
