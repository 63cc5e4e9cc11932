import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { WebSocket } from 'ws';
import { silentLogger } from '../../../../common/log.js';
import { FrameCodec } from '../frame.js';
import { GossipMesh } from '../mesh.js';
import type { GossipTiming } from '../options.js';
import type { PeerAddress } from '../transport.js';

const KEY = Buffer.alloc(32, 7);
const TIMING: Partial<GossipTiming> = {
  intervalMs: 50,
  heartbeatMs: 100,
  suspectAfterMs: 600,
  deadAfterMs: 1200,
  reachabilityPublishMs: 200,
  rttRefreshMs: 200,
};

interface Node {
  mesh: GossipMesh;
  registry: Registry;
  port: number;
  ctl: AbortController;
  mtu: number;
}

const all: Node[] = [];
const seeds: PeerAddress[] = [];

async function startNode(name: string): Promise<Node> {
  const registry = new Registry();
  const node = { registry, port: 0, ctl: new AbortController(), mtu: 1450 } as Node;
  node.mesh = new GossipMesh({
    name,
    self: () => ({
      underlayIP: '127.0.0.1',
      podCIDRs: [`10.244.${all.indexOf(node) + 1}.0/24`],
      backend: 'auto',
      mtu: node.mtu,
      ready: true,
      agentVersion: 'test',
    }),
    key: KEY,
    listen: { host: '127.0.0.1', port: 0 },
    seeds: () => seeds,
    log: silentLogger(),
    registry,
    timing: TIMING,
  });
  node.port = (await node.mesh.start(node.ctl.signal)).port;
  const i = seeds.findIndex((s) => s.name === name);
  const seed = { name, address: `127.0.0.1:${node.port}` };
  if (i >= 0) seeds[i] = seed;
  else seeds.push(seed);
  all.push(node);
  return node;
}

async function until(what: string, cond: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function stateOf(from: Node, peer: string): string | undefined {
  return from.mesh.view().peers.find((p) => p.name === peer)?.state;
}

async function metric(node: Node, name: string, labels: Record<string, string>): Promise<number> {
  const m = (await node.registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l));
  return Number(v?.value ?? 0);
}

function rawSend(port: number, frames: Array<string | Buffer>): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    ws.on('error', () => resolve());
    ws.on('close', () => resolve());
    ws.on('open', () => {
      for (const f of frames) ws.send(f);
      setTimeout(() => ws.close(), 100);
    });
    setTimeout(() => reject(new Error('raw client hung')), 3000).unref();
  });
}

describe('gossip mesh over WebSockets on loopback', () => {
  after(async () => {
    for (const n of all) await n.mesh.close();
  });

  it('converges, spreads a change, and measures RTT', async () => {
    for (const name of ['a', 'b', 'c', 'd']) await startNode(name);
    const names = ['a', 'b', 'c', 'd'];
    await until('all see all alive', () =>
      all.every((n) => names.filter((x) => x !== n.mesh.name).every((p) => stateOf(n, p) === 'alive')),
    );
    const b = all[1] as Node;
    b.mtu = 1400;
    await until('mtu change reaches all', () =>
      all.every((n) => n === b || n.mesh.view().peers.find((p) => p.name === 'b')?.record.mtu === 1400),
    );
    await until('rtt measured', () => all.every((n) => n.mesh.view().peers.every((p) => p.rttMs !== null)));
    assert.ok((await metric(b, 'weft_gossip_messages_total', { direction: 'out', kind: 'digest' })) > 0);
  });

  it('marks a killed node dead, and alive again after a restart with a new boot id', async () => {
    const d = all[3] as Node;
    const oldIncarnation = d.mesh.view().self?.incarnation;
    await d.mesh.close();
    all.splice(3, 1);
    await until('d dead everywhere', () => all.every((n) => stateOf(n, 'd') === 'dead'), 5000);
    assert.equal(await metric(all[0] as Node, 'weft_gossip_peers', { state: 'dead' }), 1);
    const d2 = await startNode('d');
    await until('d alive again', () =>
      all.every(
        (n) =>
          n === d2 ||
          (stateOf(n, 'd') === 'alive' &&
            n.mesh.view().peers.find((p) => p.name === 'd')?.record.incarnation ===
              d2.mesh.view().self?.incarnation),
      ),
    );
    assert.notEqual(d2.mesh.view().self?.incarnation, oldIncarnation);
  });

  it('rejects forged, replayed, stale, oversized, garbage and unknown-sender frames and stays healthy', async () => {
    const a = all[0] as Node;
    const codec = new FrameCodec({ key: KEY });
    const wrong = new FrameCodec({ key: Buffer.alloc(32, 9) });
    const stale = new FrameCodec({ key: KEY, now: () => Date.now() - 120_000 });
    const valid = codec.encode('ping', 'b', {});
    const before = async (reason: string) => metric(a, 'weft_gossip_rejected_total', { reason });
    const base = {
      bad_mac: await before('bad_mac'),
      replay: await before('replay'),
      stale: await before('stale'),
      oversized: await before('oversized'),
      malformed: await before('malformed'),
      unknown_sender: await before('unknown_sender'),
    };
    await rawSend(a.port, [
      wrong.encode('ping', 'b', {}),
      valid,
      valid,
      stale.encode('ping', 'b', {}),
      Buffer.from([0xff, 0x00, 0x13, 0x37]),
      'x'.repeat(200),
      codec.encode('ping', 'a', {}),
    ]);
    await rawSend(a.port, [Buffer.alloc(300 * 1024, 0x41)]);
    await pause(300);
    assert.equal((await before('bad_mac')) - base.bad_mac, 2, 'wrong key and garbage text');
    assert.equal((await before('replay')) - base.replay, 1);
    assert.equal((await before('stale')) - base.stale, 1);
    assert.equal((await before('oversized')) - base.oversized, 1);
    assert.equal((await before('malformed')) - base.malformed, 1, 'four garbage bytes');
    assert.equal(
      (await before('unknown_sender')) - base.unknown_sender,
      1,
      'a frame claiming to be a itself',
    );
    a.mtu = 1300;
    await until('mesh still healthy', () =>
      all.every((n) => n === a || n.mesh.view().peers.find((p) => p.name === 'a')?.record.mtu === 1300),
    );
  });

  it('ignores claims of peers outside the allowed set', async () => {
    const a = all[0] as Node;
    a.mesh.setAllowedPeers(
      new Map([
        ['b', '127.0.0.1'],
        ['c', '127.0.0.1'],
      ]),
    );
    assert.equal(stateOf(a, 'd'), undefined, 'd dropped at once');
    const base = await metric(a, 'weft_gossip_rejected_total', { reason: 'unknown_sender' });
    await pause(600);
    assert.equal(stateOf(a, 'd'), undefined, 'd not learnt again through gossip');
    assert.ok((await metric(a, 'weft_gossip_rejected_total', { reason: 'unknown_sender' })) > base);
    assert.ok((await metric(a, 'weft_gossip_rejected_total', { reason: 'unknown_peer' })) > 0);
    a.mesh.setAllowedPeers(undefined);
    await until('d back in the signed view', () => stateOf(a, 'd') === 'alive');
  });

  it('announces a graceful leave with a tombstone', async () => {
    const c = all.find((n) => n.mesh.name === 'c') as Node;
    await c.mesh.leave(500);
    await c.mesh.close();
    all.splice(all.indexOf(c), 1);
    await until('c left everywhere', () => all.every((n) => stateOf(n, 'c') === 'left'));
    const a = all[0] as Node;
    assert.ok(a.mesh.view().peers.find((p) => p.name === 'c')?.record.leaving);
    assert.equal(await metric(a, 'weft_gossip_peers', { state: 'left' }), 1);
  });
});
