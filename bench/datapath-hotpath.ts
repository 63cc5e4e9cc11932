/**
 * Micro-benchmark (not a test) of the pure datapath hot path for one added peer
 * among N: desiredDatapath + planDatapath against the previous desired state, as
 * a change-triggered sync (trustLastApplied) runs them. Prints JSON.
 * By default desired() patches its last result (IncrementalDesired, as the agent
 * runs it); WEFT_BENCH_NO_PATCH=1 computes it in full with the per-peer cache,
 * WEFT_BENCH_NO_CACHE=1 in full deriving every peer afresh; WEFT_BENCH_FULL_PLAN=1 plans all entries.
 *
 *   node_modules/.bin/node dist/bench/datapath-hotpath.js [5000]
 */
import { desiredDatapath } from '../agent/src/datapath/desired.js';
import { IncrementalDesired } from '../agent/src/datapath/desired-incremental.js';
import { PeerFactsCache } from '../agent/src/datapath/peer-facts.js';
import { planDatapath } from '../agent/src/datapath/plan.js';
import { planFromLastApplied } from '../agent/src/datapath/plan-trusted.js';
import type { UnderlayFacts } from '../agent/src/datapath/state.js';
import { testConfig } from '../agent/src/datapath/test-fixtures.js';
import type { PeerNode, SelfNode } from '../agent/src/datapath/types.js';

const n = Number(process.argv[2] ?? 5000);
const underlay: UnderlayFacts = { iface: 'eth0', mtu: 1500, subnets: ['192.168.71.0/24'] };
const self: SelfNode = { name: 'self', underlayIP: '192.168.71.1', podCIDRs: ['10.0.0.0/24'] };
const config = testConfig('auto', { clusterCIDRs: ['10.0.0.0/8'] });
const peer = (i: number): PeerNode => ({
  name: `fake-${String(i).padStart(5, '0')}`,
  underlayIP: `100.64.${i >> 8}.${i & 255}`,
  podCIDRs: [`10.${1 + (i >> 8)}.${i & 255}.0/24`],
});
const peers = Array.from({ length: n }, (_, i) => peer(i));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const desiredMs: number[] = [];
const planMs: number[] = [];
/** CPU time of this process (user + system), which a loaded machine inflates far less than wall time. */
const cpuMs: number[] = [];
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const cache = process.env.WEFT_BENCH_NO_CACHE === '1' ? undefined : new PeerFactsCache();
const incremental =
  process.env.WEFT_BENCH_NO_PATCH === '1' || cache === undefined ? undefined : new IncrementalDesired();
const desiredOf = (list: readonly PeerNode[]) =>
  incremental
    ? incremental.compute(self, list, config, underlay)
    : desiredDatapath(self, list, config, underlay, cache);
let previous = desiredOf(peers);
for (let round = 0; round < 15; round++) {
  const next = [...peers, peer(60_000 + round)];
  const c0 = cpuNow();
  let t = performance.now();
  const desired = desiredOf(next);
  desiredMs.push(performance.now() - t);
  t = performance.now();
  const plan =
    process.env.WEFT_BENCH_FULL_PLAN === '1'
      ? planDatapath(desired, previous)
      : planFromLastApplied(desired, previous);
  planMs.push(performance.now() - t);
  cpuMs.push(cpuNow() - c0);
  // Round 0 adds one peer (3 ops); later rounds swap it for another (6 ops).
  if (plan.length !== (round === 0 ? 3 : 6)) throw new Error(`unexpected plan of ${plan.length} ops`);
  previous = desired;
}
process.stdout.write(
  `${JSON.stringify({ peers: n, desiredMedianMs: median(desiredMs), planMedianMs: median(planMs), cpuMedianMs: median(cpuMs) })}\n`,
);
