import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Node } from '@kubernetes/client-node';
import { silentLogger } from '../../../common/log.js';
import { PeerStore } from '../peers/peer-store.js';
import { type NodeInformer, NodeWatcher } from './node-watcher.js';

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));
function kubeNode(name: string, ip: string, podCIDR?: string): V1Node {
  return {
    metadata: { name },
    spec: podCIDR ? { podCIDR } : {},
    status: { addresses: [{ type: 'InternalIP', address: ip }] },
  };
}

/** Behaves like client-node's ListWatch: lists on start, emits ADDs, stops for good on error. */
class FakeInformer implements NodeInformer {
  objects = new Map<string, V1Node>();
  apiObjects = new Map<string, V1Node>();
  failStarts = 0;
  starts = 0;
  running = false;
  readonly cbs: Record<string, Array<(x: never) => void>> = { add: [], update: [], delete: [], error: [] };
  on(verb: string, cb: (x: never) => void): void {
    this.cbs[verb]?.push(cb);
  }
  emit(verb: string, x: unknown): void {
    for (const cb of this.cbs[verb] ?? []) cb(x as never);
  }
  async start(): Promise<void> {
    this.starts++;
    await tick();
    if (this.failStarts > 0) {
      this.failStarts--;
      this.emit('error', new Error('connect ECONNREFUSED'));
      return;
    }
    for (const [name, obj] of this.objects) {
      if (!this.apiObjects.has(name)) {
        this.objects.delete(name);
        this.emit('delete', obj);
      }
    }
    for (const [name, obj] of this.apiObjects) {
      const verb = this.objects.has(name) ? 'update' : 'add';
      this.objects.set(name, obj);
      this.emit(verb, obj);
    }
    this.running = true;
  }
  async stop(): Promise<void> {
    this.running = false;
  }
  list(): V1Node[] {
    return [...this.objects.values()];
  }
  /** A watch event from the API server. */
  event(verb: 'add' | 'update' | 'delete', obj: V1Node): void {
    const name = obj.metadata?.name as string;
    if (verb === 'delete') {
      this.apiObjects.delete(name);
      this.objects.delete(name);
    } else {
      this.apiObjects.set(name, obj);
      this.objects.set(name, obj);
    }
    this.emit(verb, obj);
  }
  failWatch(): void {
    this.running = false;
    this.emit('error', new Error('socket hang up'));
  }
}

async function until(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await tick(2);
  }
}

describe('NodeWatcher', () => {
  it('replaces a cache-sourced view with the API list and follows events', async () => {
    const store = new PeerStore('a');
    store.replaceAll([{ name: 'gone', underlayIP: '10.0.0.9', podCIDRs: ['10.244.9.0/24'] }], 'cache');
    const informer = new FakeInformer();
    informer.apiObjects.set('a', kubeNode('a', '10.0.0.1', '10.244.1.0/24'));
    informer.apiObjects.set('b', kubeNode('b', '10.0.0.2', '10.244.2.0/24'));
    informer.apiObjects.set('bad', kubeNode('bad', '10.0.0.3', '10.244.3.7/24'));
    const watcher = new NodeWatcher({ informer, store, log: silentLogger() });
    const ac = new AbortController();
    const running = watcher.run(ac.signal);
    try {
      await until(() => watcher.synced);
      assert.equal(store.source, 'api');
      assert.deepEqual(
        store.view().nodes.map((n) => n.name),
        ['a', 'b'],
        'the bad node is skipped, the cache-only node dropped',
      );
      informer.event('update', kubeNode('b', '10.0.0.22', '10.244.2.0/24'));
      assert.equal(store.get('b')?.underlayIP, '10.0.0.22');
      informer.event('update', kubeNode('bad', '10.0.0.3', '10.244.3.0/24'));
      assert.deepEqual(store.get('bad')?.podCIDRs, ['10.244.3.0/24'], 'a repaired node is picked up');
      informer.event('update', kubeNode('bad', '10.0.0.3', 'garbage'));
      assert.equal(store.get('bad'), undefined, 'a node that turns invalid is removed');
      informer.event('delete', kubeNode('b', '10.0.0.22'));
      assert.equal(store.get('b'), undefined);
    } finally {
      ac.abort();
      await running;
    }
    assert.equal(informer.running, false);
  });

  it('restarts the informer with backoff after list and watch errors', async () => {
    const store = new PeerStore('a');
    const informer = new FakeInformer();
    informer.apiObjects.set('a', kubeNode('a', '10.0.0.1', '10.244.1.0/24'));
    informer.failStarts = 2;
    const watcher = new NodeWatcher({
      informer,
      store,
      log: silentLogger(),
      backoff: { baseMs: 20, capMs: 50 },
    });
    const ac = new AbortController();
    const running = watcher.run(ac.signal);
    try {
      await until(() => watcher.synced);
      assert.equal(informer.starts, 3);
      informer.apiObjects.set('c', kubeNode('c', '10.0.0.3', '10.244.3.0/24'));
      informer.failWatch();
      await until(() => store.get('c') !== undefined);
      assert.equal(informer.starts, 4);
      assert.equal(informer.running, true);
    } finally {
      ac.abort();
      await running;
    }
  });
});
