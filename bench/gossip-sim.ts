/**
 * The in-process gossip benchmark for large N: production meshes and timing,
 * the in-process transport with a modelled one-way latency, simulated time
 * (bench/gossip-clock.ts). The meshes start from a converged membership: after
 * they start, each receives the whole current state once (an anti-entropy
 * answer, not news, so nothing is forwarded) — what a joining node pulls once,
 * or an agent restores from its disk cache.
 */
import { encodeRecordsBody } from '../agent/src/gossip/body.js';
import { chunkDelta } from '../agent/src/gossip/chunk.js';
import { FrameCodec } from '../agent/src/gossip/frame.js';
import { MemoryNetwork } from '../agent/src/gossip/memory-transport.js';
import type { NodeRecord } from '../agent/src/gossip/record.js';
import { VirtualClock } from './gossip-clock.js';
import {
  BENCH_KEY,
  type BenchNode,
  benchName,
  startBenchNodes,
  totalBytesOut,
  totalMessagesOut,
  watchSpread,
} from './gossip-measure.js';

export interface SimOptions {
  readonly warmupS: number;
  readonly windowS: number;
  readonly spreads: number;
  /** One-way latency: base plus uniform jitter, ms. */
  readonly latencyMs: { readonly base: number; readonly jitter: number };
}

function latencyNetwork(clock: VirtualClock, o: SimOptions, gate: { open: boolean }): MemoryNetwork {
  const lastAt = new Map<string, number>();
  return new MemoryNetwork({
    schedule: (deliver, from, to) => {
      if (!gate.open) return;
      const key = `${from}>${to}`;
      // Per-pair order is kept, like one socket.
      const at = Math.max(
        clock.now() + o.latencyMs.base + Math.random() * o.latencyMs.jitter,
        lastAt.get(key) ?? 0,
      );
      lastAt.set(key, at);
      clock.at(at, deliver);
    },
  });
}

/** Sends every node the full current state once, from a bench endpoint speaking with the cluster key. */
async function seedConverged(
  net: MemoryNetwork,
  clock: VirtualClock,
  nodes: readonly BenchNode[],
  ports: readonly number[],
): Promise<void> {
  const records = nodes.map((x) => x.mesh.view().self as NodeRecord);
  const codec = new FrameCodec({ key: BENCH_KEY, now: clock.now });
  const pieces = chunkDelta({ records, bumps: [] }, 100 * 1024);
  // Spoken as node-0000 (as node-0001 to node-0000 itself, which ignores frames from its own name).
  const framesFrom = (sender: string): string[] =>
    pieces.map((piece) => codec.encode('records', sender, encodeRecordsBody(piece)));
  const fromFirst = framesFrom(benchName(0));
  const fromSecond = framesFrom(benchName(1));
  const seeder = net.transport('seed');
  await seeder.start({ onMessage: () => undefined, onReject: () => undefined });
  nodes.forEach((x, i) => {
    for (const f of i === 0 ? fromSecond : fromFirst) {
      seeder.send({ name: x.mesh.name, address: `127.0.0.1:${ports[i]}` }, f);
    }
  });
  await clock.advance(50);
  await seeder.close();
}

export async function runSimulated(n: number, o: SimOptions): Promise<Record<string, unknown>> {
  const realStart = performance.now();
  const clock = new VirtualClock(Date.now());
  const simStart = clock.now();
  const gate = { open: false };
  const net = latencyNetwork(clock, o, gate);
  const ctl = new AbortController();
  let nodes: BenchNode[] = [];
  try {
    const started = await startBenchNodes(n, ctl.signal, () => net.transport('127.0.0.1'), {
      now: clock.now,
      sleep: clock.sleep,
    });
    nodes = started.nodes;
    const ports = started.ports;
    // Start-up news (each node's first record) is flushed while the network is
    // still closed: in a converged cluster it would be news to nobody.
    await clock.advance(0);
    await new Promise((r) => setImmediate(r));
    gate.open = true;
    await seedConverged(net, clock, nodes, ports);
    const allSeeAll = nodes.every((x) => x.mesh.view().peers.length === n - 1);
    await clock.advance(o.warmupS * 1000);
    const spreadMs: number[] = [];
    for (let round = 0; round < o.spreads; round++) {
      const w = watchSpread(nodes, nodes[Math.floor(Math.random() * n)] as BenchNode, clock.now);
      await clock.advance(30_000, () => w.missing() === 0);
      spreadMs.push(w.elapsedMs());
      w.dispose();
      await clock.advance(2000);
    }
    // The window follows the spreads, so it holds no news; see docs/benchmarks-gossip.md.
    const windowStartS = Math.round((clock.now() - simStart) / 1000);
    const before = await totalBytesOut(nodes);
    const msgsBefore = await totalMessagesOut(nodes);
    await clock.advance(o.windowS * 1000);
    const steady = ((await totalBytesOut(nodes)) - before) / n / o.windowS;
    const msgsAfter = await totalMessagesOut(nodes);
    const framesPerNodePerSec = Object.fromEntries(
      Object.entries(msgsAfter).map(([k, v]) => [
        k,
        +((v - (msgsBefore[k] ?? 0)) / n / o.windowS).toFixed(2),
      ]),
    );
    return {
      nodes: n,
      transport: 'in-process, simulated time',
      latencyMs: o.latencyMs,
      seededConverged: allSeeAll,
      spreadMs: spreadMs.map((s) => Math.round(s)),
      spreadMaxMs: Math.round(Math.max(...spreadMs)),
      steadyWindowS: o.windowS,
      windowStartS,
      steadyBytesPerNodePerSec: Math.round(steady),
      framesPerNodePerSec,
      realSeconds: Math.round((performance.now() - realStart) / 1000),
    };
  } finally {
    ctl.abort();
    await Promise.all(nodes.map((x) => x.mesh.close()));
  }
}
