/**
 * Shared pieces of the gossip benchmark: the nodes' self reports, the byte
 * counter, and spread detection by subscription (no polling of N views).
 */
import { Registry } from 'prom-client';
import { GossipMesh } from '../agent/src/gossip/mesh.js';
import type { GossipMeshOptions, SelfReport } from '../agent/src/gossip/options.js';
import type { GossipTransport } from '../agent/src/gossip/transport.js';
import { silentLogger } from '../common/log.js';

export interface BenchNode {
  mesh: GossipMesh;
  registry: Registry;
  mtu: number;
}

export const BENCH_KEY = Buffer.alloc(32, 1);

export function benchName(i: number): string {
  return `node-${String(i).padStart(4, '0')}`;
}

export function benchSelf(i: number, node: BenchNode): () => SelfReport {
  return () => ({
    underlayIP: '127.0.0.1',
    podCIDRs: [`10.${(i >> 8) & 255}.${i & 255}.0/24`],
    backend: 'auto',
    mtu: node.mtu,
    ready: true,
    agentVersion: 'bench',
  });
}

/**
 * Starts `n` production meshes named node-0000…, each seeded with the nodes
 * started before it; `transport(i)` gives node i its transport, `timing` the
 * clock (simulated or real). Returns the nodes and their listening ports.
 */
export async function startBenchNodes(
  n: number,
  signal: AbortSignal,
  transport: (i: number) => GossipTransport,
  timing: Pick<GossipMeshOptions, 'now' | 'sleep'> = {},
): Promise<{ nodes: BenchNode[]; ports: number[] }> {
  const seeds: { name: string; address: string }[] = [];
  const nodes: BenchNode[] = [];
  const ports: number[] = [];
  const log = silentLogger();
  for (let i = 0; i < n; i++) {
    const node = { registry: new Registry(), mtu: 1450 } as BenchNode;
    node.mesh = new GossipMesh({
      name: benchName(i),
      self: benchSelf(i, node),
      key: BENCH_KEY,
      listen: { host: '127.0.0.1', port: 0 },
      seeds: () => seeds,
      log,
      registry: node.registry,
      transport: transport(i),
      ...timing,
    });
    const { port } = await node.mesh.start(signal);
    seeds.push({ name: benchName(i), address: `127.0.0.1:${port}` });
    ports.push(port);
    nodes.push(node);
  }
  return { nodes, ports };
}

async function counter(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  const v = m?.values.find((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l));
  return v?.value ?? 0;
}

/** Frame bytes sent by all nodes together (MAC + JSON; transport framing excluded). */
export async function totalBytesOut(nodes: readonly BenchNode[]): Promise<number> {
  let total = 0;
  for (const n of nodes) total += await counter(n.registry, 'weft_gossip_bytes_total', { direction: 'out' });
  return total;
}

/** Frames sent by all nodes together, per kind. */
export async function totalMessagesOut(nodes: readonly BenchNode[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const kind of ['digest', 'records', 'ping', 'pong']) {
    out[kind] = 0;
    for (const n of nodes) {
      out[kind] += await counter(n.registry, 'weft_gossip_messages_total', { direction: 'out', kind });
    }
  }
  return out;
}

export interface SpreadWatch {
  /** Nodes that have not seen the change yet. */
  readonly missing: () => number;
  /** Time from the change until the last node saw it, ms (NaN while some miss it). */
  readonly elapsedMs: () => number;
  readonly dispose: () => void;
}

/**
 * Changes `changed`'s MTU and records, through onChange, when each other node
 * first holds the new record. `now` is the clock the elapsed time is read on.
 */
export function watchSpread(nodes: readonly BenchNode[], changed: BenchNode, now: () => number): SpreadWatch {
  changed.mtu -= 10;
  const want = changed.mtu;
  const name = changed.mesh.name;
  const start = now();
  let last = start;
  const waiting = new Set(nodes.filter((x) => x !== changed));
  const unsubscribe: (() => void)[] = [];
  for (const x of waiting) {
    const check = (): void => {
      if (!waiting.has(x)) return;
      if (x.mesh.view().peers.find((p) => p.name === name)?.record.mtu !== want) return;
      waiting.delete(x);
      last = now();
    };
    unsubscribe.push(x.mesh.onChange(check));
  }
  changed.mesh.refreshSelf();
  return {
    missing: () => waiting.size,
    elapsedMs: () => (waiting.size === 0 ? last - start : Number.NaN),
    dispose: () => {
      for (const u of unsubscribe) u();
    },
  };
}

export function summarize(values: readonly number[]): { median: number; min: number; max: number } {
  const s = [...values].filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (s.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  return { median, min: s[0] as number, max: s[s.length - 1] as number };
}
