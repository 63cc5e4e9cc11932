/**
 * Benchmark (not a test): NetworkPolicy at cluster scale. A 3-node local
 * cluster (real API server, controller-manager, scheduler) plus fake Nodes,
 * 10,000 Pods (status with an address, spread over all nodes, 100 per node)
 * in 50 namespaces and 1,000 NetworkPolicies of four shapes
 * (bench/lib/policy-workload.ts), then three real agents with networkPolicy on.
 * Measures per agent: start → the compiled policy applied in the kernel, RSS,
 * compile and apply times (from its metrics), what the kernel holds; then
 * changes made one at a time through the API, each timed from the API call
 * until the kernel of **every** node has committed it: `nft monitor` in each
 * node namespace (bench/lib/nft-monitor.ts) stamps each commit; after a commit
 * one `nft list` of the set or map concerned checks that the change is in it
 * (a commit without it does not count, the next one is awaited):
 *   label-add / label-remove — a pod elsewhere gains / loses the label a policy
 *     selecting a pod on each node allows (its address enters / leaves a set);
 *   policy-add / policy-delete — a policy selecting a pod on each node is
 *     created (a new verdict chain for that pod) / deleted.
 * Prints JSON; progress on stderr.
 *
 *   node dist/bench/policy-scale.js [--quick] [--pods 10000] [--policies 1000] [--changes 40]
 *   env: WEFT_BENCH_KEEP_LOGS=1 keeps the cluster's logs (agents, nft monitors);
 *   WEFT_BENCH_AGENT_NODE_OPTIONS sets the agents' NODE_OPTIONS (e.g. --cpu-prof --cpu-prof-dir=DIR).
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import {
  CoreV1Api,
  KubeConfig,
  NetworkingV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1NetworkPolicy,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import { Netlink } from '../agent/src/datapath/netlink.js';
import { type Cluster, type ClusterNode, startCluster } from '../e2e/cluster/index.js';
import {
  type AgentRun,
  agentGet,
  metricValue,
  NODE_BIN,
  prepareAgentCredentials,
  REPO,
  readLog,
  startAgent,
  waitFor,
  writeNetConf,
} from '../e2e/tests/fixtures/agent-cluster.js';
import { summarizeLatencies } from './lib/latency.js';
import { monitorStarted, readCommits } from './lib/nft-monitor.js';
import { kernelCounts } from './lib/policy-kernel.js';
import {
  FAKE_NODE_TOLERATIONS,
  namespaceObject,
  podObject,
  podStatus,
  policyObject,
  type WorkloadSizes,
} from './lib/policy-workload.js';
import { inParallel, readRss } from './lib/proc.js';
import { benchNames, benchTag } from './lib/run-tag.js';
import { quantile, round } from './lib/stats.js';

const PODS_PER_NODE = 100;
const PROBE_NS = 'bench-probe';
const MONITOR = join(REPO, 'dist/bench/lib/nft-monitor.js');
const progress = (msg: string) => process.stderr.write(`[policy-scale] ${msg}\n`);

export function parseArgs(argv: readonly string[]) {
  const quick = argv.includes('--quick');
  const num = (flag: string, dflt: number) => {
    const i = argv.indexOf(flag);
    if (i < 0) return dflt;
    const v = Number(argv[i + 1]);
    if (!Number.isInteger(v) || v <= 0)
      throw new Error(`${flag} must be a positive integer, got ${JSON.stringify(argv[i + 1])}`);
    return v;
  };
  const pods = num('--pods', quick ? 300 : 10_000);
  return {
    quick,
    pods,
    policies: num('--policies', quick ? 40 : 1000),
    namespaces: Math.min(50, Math.max(1, Math.floor(pods / 20))),
    changes: num('--changes', quick ? 4 : 40),
  };
}

/** Retries while a just-created namespace has no default ServiceAccount yet, or the API is busy. */
async function retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err: unknown) {
      if (attempt >= 40) throw new Error(`${what}: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

function fakeNode(i: number): V1Node {
  return {
    metadata: { name: `pf-${String(i).padStart(3, '0')}`, labels: { 'weft.bench/fake': 'true' } },
    status: { addresses: [{ type: 'InternalIP', address: `100.65.${i >> 8}.${i & 255}` }] },
  };
}

const fakeNodeCount = (pods: number, real: number) => Math.max(2, Math.ceil(pods / PODS_PER_NODE) - real);

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** The probe namespace: one pod per real node selected by `probe-allow`, and the pods whose labels change. */
function probeObjects(real: readonly string[], fake: readonly string[], changes: number) {
  const pod = (name: string, node: string, labels: Record<string, string>, ip: string) => ({
    pod: {
      metadata: { namespace: PROBE_NS, name, labels },
      spec: {
        nodeName: node,
        tolerations: [...FAKE_NODE_TOLERATIONS],
        containers: [{ name: 'c', image: 'registry.invalid/bench:0', ports: [{ containerPort: 8080 }] }],
      },
    } as V1Pod,
    ip,
  });
  // Addresses two apart: every one is its own /32 element (never merged into a wider one).
  const probes = real.map((node, i) => pod(`probe-${i}`, node, { app: 'probe' }, `10.203.0.${2 * i + 1}`));
  const movers = Array.from({ length: changes }, (_, k) =>
    pod(`mover-${k}`, fake[k % fake.length] as string, { app: 'mover', role: 'idle' }, `10.204.${k}.1`),
  );
  const allow: V1NetworkPolicy = {
    metadata: { namespace: PROBE_NS, name: 'probe-allow' },
    spec: {
      podSelector: { matchLabels: { app: 'probe' } },
      policyTypes: ['Ingress'],
      // client-node's name for `from` (its serializer writes `from`).
      ingress: [{ _from: [{ podSelector: { matchLabels: { role: 'allowed' } } }], ports: [{ port: 8080 }] }],
    },
  };
  return { probes, movers, allow };
}

/** An address (or CIDR) as a regular expression that does not match inside a longer one. */
const exactly = (text: string) => `(?<![\\d.])${text.replace(/\./g, '\\.')}`;
const ipPattern = (text: string) => new RegExp(`${exactly(text)}(?![\\d.])`);

/** `nft <args>` in a node; the output, or an error naming the node. */
async function nft(cluster: Cluster, node: ClusterNode, args: string[]): Promise<string> {
  const r = await cluster.execInNode(node, ['nft', ...args], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`nft ${args.join(' ')} in ${node.name}: ${r.stderr.trim()}`);
  return r.stdout;
}

/**
 * Per node: the time from `t0` to the first commit after `t0` after which
 * `done(node index, output of nft args)` holds; undefined where none came
 * within `timeoutMs`. The check runs once per commit, so it costs the agents nothing before.
 */
function enforcedAfter(
  cluster: Cluster,
  monitors: readonly string[],
  t0: number,
  args: (node: number) => string[],
  done: (node: number, out: string) => boolean,
  timeoutMs: number,
): Promise<(number | undefined)[]> {
  return Promise.all(
    cluster.nodes.map(async (node, i) => {
      let checked = 0;
      while (Date.now() - t0 < timeoutMs) {
        const commits = readCommits(monitors[i] as string).filter((at) => at >= t0);
        if (commits.length > checked) {
          // The earliest commit not yet known to lack the change.
          const first = commits[checked] as number;
          checked = commits.length;
          if (done(i, await nft(cluster, node, args(i)))) return first - t0;
        } else await new Promise((r) => setTimeout(r, 5));
      }
      return undefined;
    }),
  );
}

/** The verdict chain the probe pod's address jumps to, from the node's ingress dispatch map. */
const chainOf = (mapText: string, ip: string) =>
  new RegExp(`${exactly(ip)} : jump (\\w+)`).exec(mapText)?.[1];

/** What `table inet weft` holds in a node, read with the agent's own parser. */
async function kernel(node: ClusterNode) {
  const table = await new Netlink({ netns: node.netns }).readNftTable('inet', 'weft');
  if (!table) throw new Error(`${node.name}: table inet weft is missing`);
  return kernelCounts(table, undefined);
}

async function populate(
  cluster: Cluster,
  kc: KubeConfig,
  o: ReturnType<typeof parseArgs>,
  real: readonly string[],
): Promise<{ fake: string[]; probe: ReturnType<typeof probeObjects> }> {
  const core = kc.makeApiClient(CoreV1Api);
  const net = kc.makeApiClient(NetworkingV1Api);
  // At least two fake nodes: the pods whose labels change live on neither real node.
  const fake = Array.from({ length: fakeNodeCount(o.pods, real.length) }, (_, i) => fakeNode(i));
  let t = Date.now();
  await inParallel(fake.length, 16, (i) => core.createNode({ body: fake[i] as V1Node }));
  const sizes: WorkloadSizes = {
    namespaces: o.namespaces,
    pods: o.pods,
    policies: o.policies,
    nodes: [...real, ...fake.map((n) => n.metadata?.name as string)],
  };
  await inParallel(o.namespaces, 8, (i) => core.createNamespace({ body: namespaceObject(i) }));
  await core.createNamespace({ body: { metadata: { name: PROBE_NS } } });
  progress(`${fake.length} fake nodes, ${o.namespaces + 1} namespaces in ${Date.now() - t} ms`);
  t = Date.now();
  await inParallel(o.pods, 24, async (i) => {
    const body = podObject(i, sizes) as V1Pod;
    const namespace = body.metadata?.namespace as string;
    const name = body.metadata?.name as string;
    await retrying(`create pod ${name}`, () => core.createNamespacedPod({ namespace, body }));
    await retrying(`status of pod ${name}`, () =>
      core.patchNamespacedPodStatus({ namespace, name, body: podStatus(i) }, mergePatch),
    );
    if ((i + 1) % 2000 === 0) progress(`${i + 1} pods`);
  });
  progress(`${o.pods} pods with addresses in ${Date.now() - t} ms`);
  t = Date.now();
  // As plain JSON through kubectl: client-node's typed serializer knows `from` only as `_from`.
  for (let k = 0; k < o.policies; k += 250) {
    const items = Array.from({ length: Math.min(250, o.policies - k) }, (_, j) => policyObject(k + j, sizes));
    await cluster.kubectl(['create', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }),
      timeoutMs: 120_000,
    });
  }
  const probe = probeObjects(
    real,
    fake.map((n) => n.metadata?.name as string),
    o.changes,
  );
  for (const p of [...probe.probes, ...probe.movers]) {
    const name = p.pod.metadata?.name as string;
    await retrying(`create pod ${name}`, () =>
      core.createNamespacedPod({ namespace: PROBE_NS, body: p.pod }),
    );
    await core.patchNamespacedPodStatus(
      {
        namespace: PROBE_NS,
        name,
        body: { status: { phase: 'Running', podIP: p.ip, podIPs: [{ ip: p.ip }] } },
      },
      mergePatch,
    );
  }
  await net.createNamespacedNetworkPolicy({ namespace: PROBE_NS, body: probe.allow });
  progress(`${o.policies} policies and the probe objects in ${Date.now() - t} ms`);
  return { fake: fake.map((n) => n.metadata?.name as string), probe };
}

/** Starts the agents and waits until each has applied its first compiled policy. */
async function startAgents(cluster: Cluster, kubeconfig: string, netConf: string) {
  const runs = cluster.nodes.map((node) => ({
    node,
    started: Date.now(),
    run: startAgent(cluster, node, {
      netConf,
      kubeconfig,
      env: { WEFT_LOG_LEVEL: 'info', NODE_OPTIONS: process.env.WEFT_BENCH_AGENT_NODE_OPTIONS ?? '' },
    }),
  }));
  const out = [];
  for (const r of runs) {
    const synced = await waitFor(
      `${r.node.name}: network policy synced`,
      () => readLog(r.run).find((l) => l.msg === 'network policy synced'),
      300_000,
      50,
    );
    const applied = await waitFor(
      `${r.node.name}: the compiled policy applied`,
      () =>
        readLog(r.run).find(
          (l) =>
            l.msg === 'datapath synced' &&
            (l.time as number) >= (synced.time as number) &&
            (l.changes as number) > 0,
        ),
      120_000,
      50,
    );
    out.push({ ...r, synced, applied });
  }
  return out;
}

async function agentFigures(cluster: Cluster, a: { node: ClusterNode; run: AgentRun; started: number }) {
  const metrics = (await agentGet(cluster, a.node, '/metrics')).body;
  const hist = (name: string) => {
    const sum = metricValue(metrics, `${name}_sum`);
    const count = metricValue(metrics, `${name}_count`);
    return { count, meanMs: sum !== undefined && count ? round((sum / count) * 1000, 1) : null };
  };
  return {
    node: a.node.name,
    ...readRss(a.run.proc.pid),
    compile: hist('weft_networkpolicy_compile_duration_seconds'),
    apply: hist('weft_networkpolicy_apply_duration_seconds'),
    policiesEnforced: metricValue(metrics, 'weft_networkpolicy_policies'),
    kernel: await kernel(a.node),
  };
}

async function measureChanges(
  cluster: Cluster,
  monitors: readonly string[],
  kc: KubeConfig,
  probe: ReturnType<typeof probeObjects>,
  changes: number,
) {
  const core = kc.makeApiClient(CoreV1Api);
  const net = kc.makeApiClient(NetworkingV1Api);
  const probeIp = (n: number) => probe.probes[n]?.ip as string;
  const dispatch = ['list', 'map', 'inet', 'weft', 'pol_ingress'];
  // Each node's probe pod: its verdict chain under probe-allow alone, and the set of
  // probe-allow's peers (which must be there: else the policy would not be enforced).
  const base: string[] = [];
  const peerSet: string[] = [];
  for (const [i, node] of cluster.nodes.entries()) {
    const chain = chainOf(await nft(cluster, node, dispatch), probeIp(i));
    const rules = chain ? await nft(cluster, node, ['list', 'chain', 'inet', 'weft', chain]) : '';
    const set = /ip saddr @(\w+) tcp dport 8080 /.exec(rules)?.[1];
    if (!chain || !set)
      throw new Error(`${node.name}: probe-allow is not in the kernel for ${probeIp(i)}:\n${rules}`);
    base.push(chain);
    peerSet.push(set);
  }
  const kinds = { labelAdd: [], labelRemove: [], policyAdd: [], policyDelete: [] } as Record<
    'labelAdd' | 'labelRemove' | 'policyAdd' | 'policyDelete',
    (number | undefined)[][]
  >;
  const apiMs: number[] = [];
  const timed = async (
    kind: keyof typeof kinds,
    call: () => Promise<unknown>,
    args: (n: number) => string[],
    done: (n: number, out: string) => boolean,
  ) => {
    const t0 = Date.now();
    await call();
    apiMs.push(Date.now() - t0);
    kinds[kind].push(await enforcedAfter(cluster, monitors, t0, args, done, 5000));
    await new Promise((r) => setTimeout(r, 150));
  };
  const label = (name: string, role: string) => () =>
    core.patchNamespacedPod(
      { namespace: PROBE_NS, name, body: { metadata: { labels: { role } } } },
      mergePatch,
    );
  const setArgs = (n: number) => ['list', 'set', 'inet', 'weft', peerSet[n] as string];
  for (let c = 0; c < changes; c++) {
    const mover = probe.movers[c] as (typeof probe.movers)[number];
    const name = mover.pod.metadata?.name as string;
    const has = ipPattern(mover.ip);
    await timed('labelAdd', label(name, 'allowed'), setArgs, (_n, out) => has.test(out));
    await timed('labelRemove', label(name, 'idle'), setArgs, (_n, out) => !has.test(out));
    const policy: V1NetworkPolicy = {
      metadata: { namespace: PROBE_NS, name: `probe-np-${c}` },
      spec: {
        podSelector: { matchLabels: { app: 'probe' } },
        policyTypes: ['Ingress'],
        ingress: [{ ports: [{ port: 20_000 + c }] }],
      },
    };
    // A policy more selecting the probe pods is a new verdict chain for them; deleting it, the old one.
    await timed(
      'policyAdd',
      () => net.createNamespacedNetworkPolicy({ namespace: PROBE_NS, body: policy }),
      () => dispatch,
      (n, out) => chainOf(out, probeIp(n)) !== base[n],
    );
    await timed(
      'policyDelete',
      () => net.deleteNamespacedNetworkPolicy({ namespace: PROBE_NS, name: `probe-np-${c}` }),
      () => dispatch,
      (n, out) => chainOf(out, probeIp(n)) === base[n],
    );
    if ((c + 1) % 10 === 0) progress(`${c + 1} of ${changes} rounds of changes`);
  }
  const summaries = Object.fromEntries(Object.entries(kinds).map(([k, v]) => [k, summarizeLatencies(v)]));
  const sorted = [...apiMs].sort((a, b) => a - b);
  return {
    ...summaries,
    all: summarizeLatencies(Object.values(kinds).flat()),
    apiCallP50Ms: sorted.length ? quantile(sorted, 0.5) : null,
  };
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const cluster = await startCluster({ name: benchNames(benchTag()).policyCluster, nodes: 3, subnets: 1 });
  const agents: { run: AgentRun }[] = [];
  const monitors: { stop: () => Promise<void> }[] = [];
  try {
    await cluster.waitForPodCIDRs();
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.adminKubeconfig);
    const real = cluster.nodes.map((n) => n.name);
    const { probe } = await populate(cluster, kc, o, real);
    const kubeconfig = await prepareAgentCredentials(cluster);
    const netConf = writeNetConf(cluster, 'policy', {
      network: '10.244.0.0/16',
      backend: { type: 'auto' },
      networkPolicy: true,
    });
    const started = await startAgents(cluster, kubeconfig, netConf);
    agents.push(...started);
    await new Promise((r) => setTimeout(r, 2000));
    const perAgent = [];
    for (const a of started) {
      perAgent.push({
        startToPolicyAppliedMs: (a.applied.time as number) - a.started,
        listedToPolicyAppliedMs: (a.applied.time as number) - (a.synced.time as number),
        firstApplyPassMs: round(a.applied.durationMs as number, 1),
        ...(await agentFigures(cluster, a)),
      });
    }
    progress(`agents: ${JSON.stringify(perAgent)}`);
    const monitorLogs = cluster.nodes.map((node) => {
      const proc = cluster.spawnInNode(node, [NODE_BIN, MONITOR], {
        logFile: join(cluster.runDir, 'logs', `${node.name}-nft-monitor.log`),
      });
      monitors.push(proc);
      return proc.logFile;
    });
    await waitFor('nft monitors', () => monitorLogs.every(monitorStarted), 10_000);
    await new Promise((r) => setTimeout(r, 500));
    const changes = await measureChanges(cluster, monitorLogs, kc, probe, o.changes);
    const after = [];
    for (const a of started) after.push({ node: a.node.name, ...readRss(a.run.proc.pid) });
    process.stdout.write(
      `${JSON.stringify(
        {
          benchmark: 'policy-scale',
          sizes: {
            pods: o.pods,
            policies: o.policies,
            namespaces: o.namespaces,
            nodes: 3 + fakeNodeCount(o.pods, 3),
            realNodes: 3,
            podsPerNode: PODS_PER_NODE,
          },
          agents: perAgent,
          changes,
          rssAfterChanges: after,
          loadAvg1m: round(loadavg()[0] ?? 0, 2),
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    for (const m of monitors) await m.stop().catch(() => undefined);
    for (const a of agents) await a.run.proc.stop('SIGTERM', 10_000).catch(() => undefined);
    await cluster.stop({ keepLogs: process.env.WEFT_BENCH_KEEP_LOGS === '1' });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
