/**
 * Gossip benchmark (issue 5). Production meshes and timing; per N:
 *  - spread: time until a changed record (an MTU change) reaches every node,
 *    detected through onChange (no polling of N views),
 *  - steady: frame bytes sent per node per second while nothing changes,
 *    over a window long enough to hold heartbeats and reachability republishes.
 * N ≤ `--ws-max` (100): real WebSockets on 127.0.0.1, real time, cold join
 * measured too. Larger N: in-process transport in simulated time, started from
 * a converged membership (bench/gossip-sim.ts).
 *
 * Usage: node dist/bench/gossip.js [--runs 3] [--window S] [--warmup S] [--ws-max N] [N ...]
 * Prints one JSON line per run, then one summary line per N.
 */
import { WsTransport } from '../agent/src/gossip/ws-transport.js';
import { silentLogger } from '../common/log.js';
import {
  type BenchNode,
  startBenchNodes,
  summarize,
  totalBytesOut,
  totalMessagesOut,
  watchSpread,
} from './gossip-measure.js';
import { runSimulated } from './gossip-sim.js';

interface Args {
  sizes: number[];
  runs: number;
  windowS: number;
  warmupS: number;
  wsMax: number;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { sizes: [], runs: 3, windowS: 60, warmupS: 30, wsMax: 100 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const value = Number(argv[i + 1]);
    if (flag === '--runs') a.runs = value;
    else if (flag === '--window') a.windowS = value;
    else if (flag === '--warmup') a.warmupS = value;
    else if (flag === '--ws-max') a.wsMax = value;
    else {
      const n = Number(flag);
      if (!Number.isInteger(n) || n < 2) throw new Error(`bench/gossip: bad argument ${flag}`);
      a.sizes.push(n);
      continue;
    }
    if (!Number.isFinite(value) || value < 0) throw new Error(`bench/gossip: ${flag} needs a number`);
    i++;
  }
  if (a.sizes.length === 0) a.sizes = [10, 100, 1000];
  return a;
}

function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitUntil(cond: () => boolean, timeoutMs: number, everyMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond() && performance.now() < deadline) await pause(everyMs);
}

async function startWsNodes(n: number, ctl: AbortController): Promise<BenchNode[]> {
  const log = silentLogger();
  const wsTransport = () =>
    new WsTransport({ host: '127.0.0.1', port: 0, maxFrameBytes: 256 * 1024, log, maxOutbound: 48 });
  return (await startBenchNodes(n, ctl.signal, wsTransport)).nodes;
}

/** Cold join over real WebSockets: every node starts knowing only the seed list. */
async function runWebSocket(n: number, a: Args): Promise<Record<string, unknown>> {
  const ctl = new AbortController();
  const t0 = performance.now();
  const nodes = await startWsNodes(n, ctl);
  try {
    // Join is checked by polling (one view per node every 250 ms); fine for N ≤ 100.
    const allAlive = () =>
      nodes.every((x) => x.mesh.view().peers.filter((p) => p.state === 'alive').length === n - 1);
    await waitUntil(allAlive, 120_000, 250);
    const joinMs = allAlive() ? performance.now() - t0 : Number.NaN;
    await pause(a.warmupS * 1000);
    const before = await totalBytesOut(nodes);
    const msgsBefore = await totalMessagesOut(nodes);
    await pause(a.windowS * 1000);
    const steady = ((await totalBytesOut(nodes)) - before) / n / a.windowS;
    const msgsAfter = await totalMessagesOut(nodes);
    const spreadMs: number[] = [];
    for (let round = 0; round < 3; round++) {
      const w = watchSpread(nodes, nodes[Math.floor(Math.random() * n)] as BenchNode, () =>
        performance.now(),
      );
      await waitUntil(() => w.missing() === 0, 30_000, 5);
      spreadMs.push(w.elapsedMs());
      w.dispose();
      await pause(1500);
    }
    return {
      nodes: n,
      transport: 'websocket, real time',
      joinMs: Math.round(joinMs),
      spreadMs: spreadMs.map((s) => Math.round(s)),
      spreadMaxMs: Math.round(Math.max(...spreadMs)),
      steadyWindowS: a.windowS,
      steadyBytesPerNodePerSec: Math.round(steady),
      framesPerNodePerSec: Object.fromEntries(
        Object.entries(msgsAfter).map(([k, v]) => [
          k,
          +((v - (msgsBefore[k] ?? 0)) / n / a.windowS).toFixed(2),
        ]),
      ),
    };
  } finally {
    ctl.abort();
    await Promise.all(nodes.map((x) => x.mesh.close()));
  }
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  for (const n of a.sizes) {
    const results: Record<string, unknown>[] = [];
    for (let run = 0; run < a.runs; run++) {
      const r =
        n <= a.wsMax
          ? await runWebSocket(n, a)
          : await runSimulated(n, {
              warmupS: a.warmupS,
              windowS: a.windowS,
              spreads: 3,
              latencyMs: { base: 0.2, jitter: 0.6 },
            });
      console.log(JSON.stringify({ run, ...r }));
      results.push(r);
    }
    console.log(
      JSON.stringify({
        summary: n,
        runs: a.runs,
        spreadMaxMs: summarize(results.map((r) => r.spreadMaxMs as number)),
        steadyBytesPerNodePerSec: summarize(results.map((r) => r.steadyBytesPerNodePerSec as number)),
        joinMs: n <= a.wsMax ? summarize(results.map((r) => r.joinMs as number)) : 'seeded converged',
        loadavg: (await import('node:os')).loadavg().map((l) => +l.toFixed(2)),
      }),
    );
  }
}

await main();
