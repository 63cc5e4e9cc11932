/**
 * NetworkPolicy datapath benchmark (not a test): pod→pod across two nodes with
 * 0, 100 and 1000 NetworkPolicies, host-gw and VXLAN, each figure also as a
 * ratio to (or difference from) 0 policies in the same repetition. Issue 14's
 * target: TCP throughput ratio ≥ 0.95 at 1000. Prints one JSON object
 * (PolicyDatapathResult) on stdout; progress on stderr.
 *
 * Set-up (policy-topology.ts): n1 and n2 with the real agent Datapath and
 * NetworkPolicy on; client pod cli on n1, server pod srv on n2, plus dny (n1)
 * and opn (n2) that no policy selects. Policies are compiled from API objects
 * (lib/policy-levels.ts) for each node as the agent does and applied with
 * setPolicy + sync. The cluster the compiler sees is the same at every level:
 * 12 workload namespaces with 3000 pods over 23 nodes (≈130 on each of n1,
 * n2; the rest give the peer sets members elsewhere) and the four real pods.
 *
 * Shape of level N (the worst realistic case for the measured pods):
 *   - N/10 targeted policies in cli/srv's namespace select both cli and srv,
 *     with the workload's four rule shapes (named port from a role, port range
 *     from team namespaces, ipBlock with except + UDP to a role, ipBlock in and
 *     443 out) — so both are isolated both ways by the union of many policies,
 *     none of which allows the measured ports;
 *   - two allows, named to sort last, so the rule that admits the measured
 *     traffic is the last of the pod's chain: egress cli → srv and ingress
 *     srv ← cli, TCP 5201 (iperf3), 11111 (sockperf), 7000 (echo);
 *   - the other N − N/10 − 2 are the workload's policies, each selecting pods
 *     on n1 and on n2 (so each node enforces all N).
 * The compiler merges equal rules of a union, so srv's ingress chain holds 9
 * rules at 100 (7 allows before the measured one) and 25 at 1000 (23); cli's
 * egress chain 7 and 21 (`measuredChainRules`).
 * Every cli → srv packet meets the dispatch maps on both nodes: on n1 the
 * egress vmap jumps to cli's chain, on n2 the ingress vmap to srv's; replies
 * pass the first rule (ct direction reply). In a pod's chain an established
 * connection returns on the first rule; a new one walks the allow rules, so
 * that cost shows in the new-connection latency.
 *
 * Before measuring, every application is checked (checkLevel): each compiled
 * chain, set and map entry is in the kernel table as read back with
 * `nft -j list table inet weft`, cli → srv and dny → opn connect, and with
 * policies dny → srv and cli → opn are refused (without, they connect). The
 * counts of the first application per level are in `kernel`.
 *
 * Per repetition the levels are applied in an order rotated per repetition;
 * at each level, per backend: iperf3 TCP 1 stream, `--rtt-rounds` sockperf
 * ping-pong runs (median of their p50/p99, established connection) and
 * `--connections` timed new connections (lib/tcp-crr.c: connect, one byte
 * echoed, close; p50/p99). Round-trip ends (sockperf, tcp-crr) are pinned to
 * one CPU as in datapath-net.ts. Throughput and latency are per repetition
 * paired with level 0 of the same backend (ratio, and added µs).
 *
 *   node dist/bench/policy-datapath.js [--quick] [--reps 5] [--seconds 4] [--rtt-seconds 1]
 *        [--rtt-rounds 3] [--connections 400] [--rtt-cpu N|none]
 */
import { loadavg } from 'node:os';
import { requireHostTools } from '../scripts/host-tools.js';
import { nsPrefix } from './datapath-paths.js';
import type { LevelCheck } from './lib/policy-kernel.js';
import { levelPolicies, levelShape, PORTS, policyCluster } from './lib/policy-levels.js';
import {
  emptyPolicySamples,
  LEVELS,
  type Level,
  type LevelKey,
  POLICY_BACKENDS,
  type PolicyBackend,
  type PolicyDatapathResult,
  type PolicyMetric,
  type PolicyOptions,
  type PolicySamples,
  parsePolicyArgs,
  recordLevel,
  summarizePolicySamples,
} from './lib/policy-results.js';
import { measureRoundTrips } from './lib/round-trips.js';
import { round } from './lib/stats.js';
import { buildTcpCrr } from './lib/tcp-crr.js';
import { type NsServer, retryOnce, runIperf } from './lib/traffic.js';
import {
  applyLevel,
  buildPolicyVariant,
  checkLevel,
  cleanupPolicyVariants,
  type PolicyVariant,
  startPolicyServers,
} from './policy-topology.js';

export type { PolicyDatapathResult };
export { cleanupPolicyVariants };

const progress = (msg: string) => process.stderr.write(`[policy-datapath] ${msg}\n`);
const attempt = <T>(what: string, fn: () => Promise<T>) => retryOnce(what, progress, fn);

/** All metrics of one (backend, level) cell of one repetition. */
async function measureCell(
  v: PolicyVariant,
  o: PolicyOptions,
  crr: string,
  what: string,
): Promise<Record<PolicyMetric, number>> {
  const { cli, srv } = v.pods;
  const tcp = await attempt(`${what} tcp1`, () =>
    runIperf(cli.ns, srv.ip, { seconds: o.seconds, port: PORTS.iperf }),
  );
  return { tcp1Gbps: tcp.gbps, ...(await measureRoundTrips(cli.ns, srv.ip, PORTS, o, crr, what, progress)) };
}

async function measure(
  variants: Record<PolicyBackend, PolicyVariant>,
  o: PolicyOptions,
  crr: string,
  samples: PolicySamples,
  kernel: Record<PolicyBackend, Partial<Record<LevelKey, LevelCheck>>>,
): Promise<void> {
  const cluster = policyCluster();
  const policies = new Map(LEVELS.map((l) => [l, levelPolicies(l)]));
  for (let rep = 0; rep < o.reps; rep++) {
    const order = LEVELS.map((_, i) => LEVELS[(i + rep) % LEVELS.length] as Level);
    for (const level of order) {
      for (const backend of POLICY_BACKENDS) {
        const v = variants[backend];
        const what = `rep ${rep + 1} ${backend} ${level} policies`;
        const applied = await applyLevel(v, cluster, policies.get(level) ?? []);
        const check = await checkLevel(v, applied);
        kernel[backend][`${level}`] ??= check;
        const cell = await measureCell(v, o, crr, what);
        recordLevel(samples, backend, level, cell);
        progress(
          `${what}: ${cell.tcp1Gbps.toFixed(2)} Gbit/s, rtt p50 ${round(cell.rttP50Us, 1)} µs, connect p50 ${round(cell.connectP50Us, 1)} / p99 ${round(cell.connectP99Us, 1)} µs (applied in ${Math.round(applied.applyMs)} ms, chain ${check.n2.measuredChainRules} rules)`,
        );
      }
    }
  }
}

async function main(): Promise<void> {
  const o = parsePolicyArgs(process.argv.slice(2));
  const started = Date.now();
  const prefix = nsPrefix();
  const servers: NsServer[] = [];
  const stop = async () => {
    for (const s of servers.splice(0)) await s.stop();
    await cleanupPolicyVariants(prefix);
  };
  const onSignal = () => void stop().finally(() => process.exit(1));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    requireHostTools(['ip', 'nft', 'iperf3', 'sockperf', 'taskset', 'gcc']);
    await cleanupPolicyVariants(prefix);
    const crr = await buildTcpCrr();
    const variants = {} as Record<PolicyBackend, PolicyVariant>;
    for (const backend of POLICY_BACKENDS) {
      variants[backend] = await buildPolicyVariant(backend, prefix);
      servers.push(...(await startPolicyServers(variants[backend], crr, o.rttCpu)));
      progress(`built ${backend}`);
    }
    const samples = emptyPolicySamples();
    const kernel = { hostgw: {}, vxlan: {} };
    await measure(variants, o, crr, samples, kernel);
    const out: PolicyDatapathResult = {
      benchmark: 'policy-datapath',
      settings: {
        ...o,
        levels: [...LEVELS],
        shape: Object.fromEntries(LEVELS.map((l) => [l, levelShape(l)])),
        sockperfMessage: 64,
      },
      ...summarizePolicySamples(samples),
      kernel: kernel as PolicyDatapathResult['kernel'],
      samples,
      loadAvg1m: round(loadavg()[0] ?? 0, 2),
      durationS: Math.round((Date.now() - started) / 1000),
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
