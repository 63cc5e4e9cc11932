/**
 * Micro-benchmark (not a test) of the pure datapath hot path for one added peer
 * among N: desiredDatapath + planDatapath against the previous desired state, as
 * a change-triggered sync (trustLastApplied) runs them. Prints JSON.
 * By default desired() patches its last result (IncrementalDesired, as the agent
 * runs it); WEFT_BENCH_NO_PATCH=1 computes it in full with the per-peer cache,
 * WEFT_BENCH_NO_CACHE=1 in full deriving every peer afresh; WEFT_BENCH_FULL_PLAN=1 plans all entries;
 * WEFT_BENCH_DUAL_STACK=1 gives this node and every peer an IPv6 podCIDR and InternalIP too (ADR 18).
 *
 * Every round's plan is checked to touch only the changed peers: round 0 adds one peer (its ops
 * only), later rounds swap it for another (the old one's entries deleted, the new one's added).
 * How many ops one peer takes is not fixed here — it grows with the datapath (ADR 14's table-87
 * route, ADR 18's IPv6 route and neighbour) — it is the plan of a 0 → 1 peer change.
 *
 *   node_modules/.bin/node dist/bench/datapath-hotpath.js [5000]
 */
import { desiredDatapath } from '../agent/src/datapath/desired.js';
import { IncrementalDesired } from '../agent/src/datapath/desired-incremental.js';
import { PeerFactsCache } from '../agent/src/datapath/peer-facts.js';
import { type PlanOp, planDatapath } from '../agent/src/datapath/plan.js';
import { planFromLastApplied } from '../agent/src/datapath/plan-trusted.js';
import type { UnderlayFacts } from '../agent/src/datapath/state.js';
import { testConfig } from '../agent/src/datapath/test-fixtures.js';
import type { PeerNode, SelfNode } from '../agent/src/datapath/types.js';

const n = Number(process.argv[2] ?? 5000);
const dual = process.env.WEFT_BENCH_DUAL_STACK === '1';
const underlay: UnderlayFacts = {
  iface: 'eth0',
  mtu: 1500,
  subnets: ['192.168.71.0/24'],
  ...(dual ? { subnets6: ['fd00:71::/64'] } : {}),
};
const self: SelfNode = dual
  ? {
      name: 'self',
      underlayIP: '192.168.71.1',
      underlayIP6: 'fd00:71::1',
      podCIDRs: ['10.0.0.0/24', 'fd00:10::/64'],
    }
  : { name: 'self', underlayIP: '192.168.71.1', podCIDRs: ['10.0.0.0/24'] };
const config = testConfig('auto', {
  clusterCIDRs: dual ? ['10.0.0.0/8', 'fd00:10::/48'] : ['10.0.0.0/8'],
});
/** Peer i: off the underlay's subnets, so `auto` tunnels it (the larger plan). */
const peer = (i: number): PeerNode => {
  const v4 = { underlayIP: `100.64.${i >> 8}.${i & 255}`, podCIDRs: [`10.${1 + (i >> 8)}.${i & 255}.0/24`] };
  if (!dual) return { name: `fake-${String(i).padStart(5, '0')}`, ...v4 };
  return {
    name: `fake-${String(i).padStart(5, '0')}`,
    underlayIP: v4.underlayIP,
    underlayIP6: `fd00:64::${(i + 1).toString(16)}`,
    podCIDRs: [...v4.podCIDRs, `fd00:10:0:${(i + 1).toString(16)}::/64`],
  };
};
/** The strings by which a plan op names a peer's entries: podCIDR network addresses, underlay IPs. */
const peerKeys = (p: PeerNode) => [
  p.underlayIP,
  ...(p.underlayIP6 ? [p.underlayIP6] : []),
  ...p.podCIDRs.map((c) => c.split('/')[0] as string),
];
const mentions = (op: PlanOp, p: PeerNode) => {
  const s = JSON.stringify(op);
  return peerKeys(p).some((k) => s.includes(`"${k}"`) || s.includes(`"${k}/`));
};
const isDel = (op: PlanOp) => op.op.endsWith('-del');

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

/** Ops one tunnelled peer takes (0 → 1 peer), from a throwaway computation. */
const opsPerPeer = planDatapath(
  desiredDatapath(self, [peer(0)], config, underlay),
  desiredDatapath(self, [], config, underlay),
).length;

/** Throws unless `plan` only removes `gone`'s entries and adds `added`'s, and all of them. */
function checkPlan(plan: readonly PlanOp[], added: PeerNode, gone: PeerNode | undefined): void {
  const adds = plan.filter((op) => !isDel(op));
  const dels = plan.filter(isDel);
  const stray = [
    ...adds.filter((op) => !mentions(op, added)),
    ...dels.filter((op) => !gone || !mentions(op, gone)),
  ];
  if (stray.length > 0 || adds.length !== opsPerPeer || dels.length !== (gone ? opsPerPeer : 0))
    throw new Error(
      `unexpected plan of ${plan.length} ops (${adds.length} adds, ${dels.length} dels; one peer takes ${opsPerPeer}): ${JSON.stringify(stray.length ? stray : plan).slice(0, 600)}`,
    );
}

let previous = desiredOf(peers);
for (let round = 0; round < 15; round++) {
  const added = peer(60_000 + round);
  const next = [...peers, added];
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
  checkPlan(plan, added, round === 0 ? undefined : peer(60_000 + round - 1));
  previous = desired;
}
process.stdout.write(
  `${JSON.stringify({ peers: n, dualStack: dual, opsPerPeer, desiredMedianMs: median(desiredMs), planMedianMs: median(planMs), cpuMedianMs: median(cpuMs) })}\n`,
);
