import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../../../common/log.js';
import { testConfig } from '../datapath/test-fixtures.js';
import type { DatapathConfig, PeerNode, SelfNode, SyncOptions, SyncResult } from '../datapath/types.js';
import { PeerStore } from '../peers/peer-store.js';
import { createLocalNetworkProvider } from './local-network-provider.js';
import { ReconcileLoop } from './loop.js';
import { ReconcileMetrics } from './metrics.js';

const config: DatapathConfig = testConfig('auto');
const self = { name: 'a', underlayIP: '10.0.0.1', podCIDRs: ['10.244.1.0/24'] };
const peer = (i: number) => ({
  name: `p${i}`,
  underlayIP: `10.0.1.${i}`,
  podCIDRs: [`10.244.${10 + i}.0/24`],
});
const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

/** A datapath that records calls, can be held open, and fails on demand. */
class FakeDatapath {
  calls: Array<{ self: SelfNode; peers: readonly PeerNode[]; at: number; trusted: boolean }> = [];
  active = 0;
  maxActive = 0;
  failNext = 0;
  delayMs = 0;
  async sync(
    s: SelfNode,
    peers: readonly PeerNode[],
    _config: DatapathConfig,
    opts: SyncOptions = {},
  ): Promise<SyncResult> {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    this.calls.push({ self: s, peers, at: Date.now(), trusted: opts.trustLastApplied === true });
    try {
      await tick(this.delayMs);
      if (this.failNext > 0) {
        this.failNext--;
        throw new Error('injected failure');
      }
      return {
        changes: peers.length,
        peerRoutes: new Map(peers.map((p) => [p.name, 'vxlan' as const])),
        peerRoutes6: new Map(),
        mtu: 1450,
        underlayInterface: 'eth0',
      };
    } finally {
      this.active--;
    }
  }
}

function setup(resyncMs = 60_000, initial: readonly PeerNode[] = []) {
  const store = new PeerStore('a');
  for (const n of initial) store.upsert(n);
  const datapath = new FakeDatapath();
  const registry = new Registry();
  const loop = new ReconcileLoop({
    datapath,
    store,
    config,
    resyncMs,
    log: silentLogger(),
    metrics: new ReconcileMetrics(registry),
  });
  const ac = new AbortController();
  const running = loop.run(ac.signal);
  const stop = async () => {
    ac.abort();
    await running;
  };
  return { store, datapath, registry, loop, stop };
}

async function until(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await tick(2);
  }
}

describe('ReconcileLoop', () => {
  it('waits without syncing while this node has no podCIDR', async () => {
    const t = setup();
    try {
      t.store.upsert({ ...self, podCIDRs: [] });
      t.store.upsert(peer(1));
      await tick(20);
      assert.equal(t.datapath.calls.length, 0);
      assert.equal(t.loop.firstSuccessAt, undefined);
      t.store.upsert(self);
      await until(() => t.datapath.calls.length === 1);
      assert.deepEqual(t.datapath.calls[0]?.peers, [peer(1)]);
    } finally {
      await t.stop();
    }
  });

  it('coalesces a burst of changes and never runs two passes at once', async () => {
    const t = setup();
    try {
      t.datapath.delayMs = 30;
      t.store.upsert(self);
      await until(() => t.datapath.active === 1);
      for (let i = 1; i <= 500; i++) t.store.upsert(peer(i));
      await until(() => t.datapath.calls.length === 2 && t.datapath.active === 0);
      await tick(50);
      assert.equal(t.datapath.calls.length, 2, 'the 500 changes during pass 1 caused exactly one more pass');
      assert.equal(t.datapath.calls[1]?.peers.length, 500);
      assert.equal(t.datapath.maxActive, 1);
      const metrics = await t.registry.getSingleMetricAsString('weft_peers');
      assert.match(metrics, /weft_peers 500/);
      assert.match(await t.registry.getSingleMetricAsString('weft_last_reconcile_changes'), / 500$/m);
    } finally {
      await t.stop();
    }
  });

  it('backs off after a failure even when changes keep arriving, then recovers', async () => {
    const t = setup();
    try {
      t.datapath.failNext = 2;
      t.store.upsert(self);
      await until(() => t.datapath.calls.length === 1);
      for (let i = 1; i <= 20; i++) {
        t.store.upsert(peer(i));
        await tick(5);
      }
      assert.ok(
        t.datapath.calls.length <= 2,
        `changes must not bypass the backoff (${t.datapath.calls.length} calls)`,
      );
      await until(() => t.loop.firstSuccessAt !== undefined, 5000);
      const [c1, c2, c3] = t.datapath.calls;
      assert.ok(c1 && c2 && c3);
      assert.ok(c2.at - c1.at >= 250, `first retry after >= base/2 (${c2.at - c1.at} ms)`);
      assert.ok(c3.at - c2.at >= 250, `second retry after >= base/2 (${c3.at - c2.at} ms)`);
      assert.equal(t.loop.consecutiveFailures, 0);
      assert.match(await t.registry.getSingleMetricAsString('weft_reconcile_errors_total'), / 2\n?$/m);
      assert.equal(t.datapath.maxActive, 1);
    } finally {
      await t.stop();
    }
  });

  it('resyncs periodically without changes and publishes the local network', async () => {
    const t = setup(100);
    try {
      t.store.upsert(self);
      await until(() => t.datapath.calls.length >= 3, 2000);
      assert.equal(t.loop.isStuck(), false);
      assert.ok(t.loop.isStuck(Date.now() + 2000));
      const local = createLocalNetworkProvider(t.loop, config)();
      assert.deepEqual(local, {
        nodeName: 'a',
        podCIDRs: ['10.244.1.0/24'],
        clusterCIDRs: ['10.244.0.0/16'],
        bridge: 'weft0',
        mtu: 1450,
      });
    } finally {
      await t.stop();
    }
  });

  it('trusts the last applied state only for change passes: start, resync and retry read the kernel', async () => {
    const t = setup(300, [self]);
    const done = (n: number, ms = 2000) =>
      until(() => t.datapath.calls.length === n && t.datapath.active === 0, ms);
    try {
      await done(1);
      t.store.upsert(peer(1));
      await done(2);
      await done(3);
      t.datapath.failNext = 1;
      t.store.upsert(peer(2));
      await done(5, 3000);
      t.store.upsert(peer(3));
      await done(6);
      assert.deepEqual(
        t.datapath.calls.slice(0, 6).map((c) => c.trusted),
        [false, true, false, true, false, true],
        'start full, change trusted, resync full, change trusted (fails), retry full, change trusted',
      );
    } finally {
      await t.stop();
    }
  });

  it('triggerFull asks for a pass that reads the kernel', async () => {
    const t = setup(60_000, [self]);
    try {
      await until(() => t.datapath.calls.length === 1 && t.datapath.active === 0);
      t.store.upsert(peer(1));
      await until(() => t.datapath.calls.length === 2 && t.datapath.active === 0);
      t.loop.triggerFull();
      await until(() => t.datapath.calls.length === 3 && t.datapath.active === 0);
      assert.deepEqual(
        t.datapath.calls.map((c) => c.trusted),
        [false, true, false],
      );
    } finally {
      await t.stop();
    }
  });

  it('stops promptly on abort, also mid-backoff', async () => {
    const t = setup();
    t.datapath.failNext = 100;
    t.store.upsert(self);
    await until(() => t.datapath.calls.length === 1);
    const started = Date.now();
    await t.stop();
    assert.ok(Date.now() - started < 100);
  });

  it('dual-stack: the datapath gets this node with its IPv6 InternalIP and both podCIDRs, and the CNI both', async () => {
    const self6 = { ...self, underlayIP6: 'fd00::1', podCIDRs: ['10.244.1.0/24', 'fd00:10:0:1::/64'] };
    const peer6 = {
      ...peer(1),
      underlayIP6: 'fd00::101',
      podCIDRs: [...peer(1).podCIDRs, 'fd00:10:0:b::/64'],
    };
    const t = setup(60_000, [self6, peer6]);
    try {
      await until(() => t.datapath.calls.length === 1 && t.datapath.active === 0);
      assert.deepEqual(t.datapath.calls[0]?.self, self6);
      assert.deepEqual(t.datapath.calls[0]?.peers, [peer6]);
      assert.deepEqual(t.loop.lastSelf, self6);
      assert.deepEqual(createLocalNetworkProvider(t.loop, config)()?.podCIDRs, self6.podCIDRs);
      t.store.upsert({ ...self6, underlayIP6: 'fd00::9' });
      await until(() => t.datapath.calls.length === 2 && t.datapath.active === 0);
      assert.equal(t.datapath.calls[1]?.self.underlayIP6, 'fd00::9', 'a new IPv6 InternalIP is a new pass');
    } finally {
      await t.stop();
    }
  });
});
