/**
 * Gossip benchmark: N meshes (real WebSockets on 127.0.0.1 for N ≤ 100, the
 * in-process transport for larger N) with production timing. Measures
 *  - join: time until every node sees every other one alive,
 *  - spread: time until a changed record (an MTU change) reaches every node,
 *  - steady: bytes sent per node per second while nothing changes.
 * Prints one JSON object per N. Usage: node dist/bench/gossip.js [N ...]
 */
import { Registry } from 'prom-client';
import { MemoryNetwork } from '../agent/src/gossip/memory-transport.js';
import { GossipMesh } from '../agent/src/gossip/mesh.js';
import type { GossipTransport, PeerAddress } from '../agent/src/gossip/transport.js';
import { WsTransport } from '../agent/src/gossip/ws-transport.js';
import { silentLogger } from '../common/log.js';

interface BenchNode {
  mesh: GossipMesh;
  registry: Registry;
  mtu: number;
}

const KEY = Buffer.alloc(32, 1);

function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` every `everyMs` (checking 1000 views costs real CPU, so large N polls less often). */
async function waitFor(cond: () => boolean, timeoutMs: number, everyMs = 50): Promise<number> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > timeoutMs) return Number.NaN;
    await pause(everyMs);
  }
  return performance.now() - start;
}

async function bytesOut(nodes: readonly BenchNode[]): Promise<number> {
  let total = 0;
  for (const n of nodes) {
    const m = await n.registry.getSingleMetric('weft_gossip_bytes_total')?.get();
    total += m?.values.find((v) => v.labels.direction === 'out')?.value ?? 0;
  }
  return total;
}

async function startNodes(n: number, inProcess: boolean, ctl: AbortController): Promise<BenchNode[]> {
  const net = new MemoryNetwork();
  const seeds: PeerAddress[] = [];
  const nodes: BenchNode[] = [];
  const log = silentLogger();
  for (let i = 0; i < n; i++) {
    const name = `node-${String(i).padStart(4, '0')}`;
    const registry = new Registry();
    const node = { registry, mtu: 1450 } as BenchNode;
    const transport: GossipTransport = inProcess
      ? net.transport('127.0.0.1')
      : new WsTransport({ host: '127.0.0.1', port: 0, maxFrameBytes: 256 * 1024, log, maxOutbound: 48 });
    node.mesh = new GossipMesh({
      name,
      self: () => ({
        underlayIP: '127.0.0.1',
        podCIDRs: [`10.${(i >> 8) & 255}.${i & 255}.0/24`],
        backend: 'auto',
        mtu: node.mtu,
        ready: true,
        agentVersion: 'bench',
      }),
      key: KEY,
      listen: { host: '127.0.0.1', port: 0 },
      seeds: () => seeds,
      log,
      registry,
      transport,
    });
    const { port } = await node.mesh.start(ctl.signal);
    seeds.push({ name, address: `127.0.0.1:${port}` });
    nodes.push(node);
  }
  return nodes;
}

function everyoneSees(nodes: readonly BenchNode[], check: (n: BenchNode) => boolean): boolean {
  return nodes.every(check);
}

async function runOne(n: number): Promise<Record<string, unknown>> {
  const inProcess = n > 100;
  const ctl = new AbortController();
  const nodes = await startNodes(n, inProcess, ctl);
  const pollMs = Math.max(50, n / 4);
  try {
    const joinMs = await waitFor(
      () =>
        everyoneSees(nodes, (x) => x.mesh.view().peers.filter((p) => p.state === 'alive').length === n - 1),
      240_000,
      pollMs * 4,
    );
    await pause(5000); // let the join burst settle
    const windowMs = 10_000;
    const before = await bytesOut(nodes);
    await pause(windowMs);
    const steady = ((await bytesOut(nodes)) - before) / n / (windowMs / 1000);
    const spreads: number[] = [];
    for (let round = 0; round < 3; round++) {
      const changed = nodes[Math.floor(Math.random() * n)] as BenchNode;
      changed.mtu -= 10;
      changed.mesh.refreshSelf();
      const want = changed.mtu;
      const name = changed.mesh.name;
      spreads.push(
        await waitFor(
          () =>
            everyoneSees(
              nodes,
              (x) => x === changed || x.mesh.view().peers.find((p) => p.name === name)?.record.mtu === want,
            ),
          30_000,
          pollMs,
        ),
      );
      await pause(1500);
    }
    return {
      nodes: n,
      transport: inProcess ? 'in-process' : 'websocket',
      joinMs: Math.round(joinMs),
      spreadMs: spreads.map((s) => Math.round(s)),
      spreadMaxMs: Math.round(Math.max(...spreads)),
      steadyBytesPerNodePerSec: Math.round(steady),
    };
  } finally {
    ctl.abort();
    await Promise.all(nodes.map((x) => x.mesh.close()));
  }
}

async function main(): Promise<void> {
  const sizes = process.argv.slice(2).map(Number);
  for (const n of sizes.length > 0 ? sizes : [10, 100, 1000]) {
    console.log(JSON.stringify(await runOne(n)));
  }
}

await main();
