import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../../common/log.js';
import { PeerStore } from '../peers/peer-store.js';
import { KubeApiError } from './api-client.js';
import type { NodeApi, NodePage } from './node-api.js';
import type { KubeNode } from './node-convert.js';
import { NodeWatcher } from './node-watcher.js';
import type { WatchEvent } from './watch-stream.js';

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

function kubeNode(name: string, ip: string, podCIDR?: string, rv = '1'): KubeNode {
  return {
    metadata: { name, resourceVersion: rv },
    spec: podCIDR ? { podCIDR } : {},
    status: { addresses: [{ type: 'InternalIP', address: ip }] },
  };
}

type Step = WatchEvent<KubeNode> | Error | 'close';

/** An API server in memory: pages of the current nodes, and scripted watch streams. */
class FakeNodeApi implements NodeApi {
  nodes = new Map<string, KubeNode>();
  rv = 100;
  failLists = 0;
  lists: Array<{ continueToken: string | undefined }> = [];
  watches: string[] = [];
  /** Steps of the current watch; pushed by the test. */
  #steps: Step[] = [];
  #wake: (() => void) | undefined;

  async listNodes(opts: { limit: number; continueToken?: string }): Promise<NodePage> {
    this.lists.push({ continueToken: opts.continueToken });
    await tick();
    if (this.failLists > 0) {
      this.failLists--;
      throw new Error('connect ECONNREFUSED');
    }
    const all = [...this.nodes.values()];
    const from = opts.continueToken ? Number(opts.continueToken) : 0;
    const items = all.slice(from, from + opts.limit);
    const next = from + opts.limit;
    return {
      items,
      resourceVersion: String(this.rv),
      continueToken: next < all.length ? String(next) : undefined,
    };
  }

  async *watchNodes(opts: {
    resourceVersion: string;
    signal: AbortSignal;
  }): AsyncIterable<WatchEvent<KubeNode>> {
    this.watches.push(opts.resourceVersion);
    for (;;) {
      const step = this.#steps.shift();
      if (step === undefined) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          opts.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        if (opts.signal.aborted) throw opts.signal.reason;
        continue;
      }
      if (step === 'close') return;
      if (step instanceof Error) throw step;
      yield step;
    }
  }

  async patchNodeStatus(): Promise<void> {}

  push(...steps: Step[]): void {
    this.#steps.push(...steps);
    this.#wake?.();
  }
}

async function until(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await tick(2);
  }
}

function start(
  api: FakeNodeApi,
  store: PeerStore,
  pageSize = 500,
  backoff = { baseMs: 20, capMs: 50 },
  underlayFamily: 4 | 6 = 4,
) {
  const watcher = new NodeWatcher({
    api,
    store,
    log: silentLogger(),
    backoff,
    pageSize,
    underlayFamily,
  });
  const ac = new AbortController();
  const running = watcher.run(ac.signal);
  return {
    watcher,
    stop: async () => {
      ac.abort();
      await running;
    },
  };
}

describe('NodeWatcher', () => {
  it('replaces a cache-sourced view with the paginated list and follows events', async () => {
    const store = new PeerStore('a');
    store.replaceAll([{ name: 'gone', underlayIP: '10.0.0.9', podCIDRs: ['10.244.9.0/24'] }], 'cache');
    const api = new FakeNodeApi();
    api.nodes.set('a', kubeNode('a', '10.0.0.1', '10.244.1.0/24'));
    api.nodes.set('b', kubeNode('b', '10.0.0.2', '10.244.2.0/24'));
    api.nodes.set('bad', kubeNode('bad', '10.0.0.3', '10.244.3.7/24'));
    const w = start(api, store, 2);
    try {
      await until(() => w.watcher.synced);
      assert.deepEqual(api.lists, [{ continueToken: undefined }, { continueToken: '2' }], 'two pages');
      assert.equal(store.source, 'api');
      assert.deepEqual(
        store.view().nodes.map((n) => n.name),
        ['a', 'b'],
        'the bad node is skipped, the cache-only node dropped',
      );
      await until(() => api.watches.length === 1);
      assert.equal(api.watches[0], '100', 'the watch starts at the list resourceVersion');
      api.push({ type: 'MODIFIED', object: kubeNode('b', '10.0.0.22', '10.244.2.0/24', '101') });
      await until(() => store.get('b')?.underlayIP === '10.0.0.22');
      api.push({ type: 'MODIFIED', object: kubeNode('bad', '10.0.0.3', '10.244.3.0/24', '102') });
      await until(() => store.get('bad') !== undefined);
      assert.deepEqual(store.get('bad')?.podCIDRs, ['10.244.3.0/24'], 'a repaired node is picked up');
      api.push({ type: 'MODIFIED', object: kubeNode('bad', '10.0.0.3', 'garbage', '103') });
      await until(() => store.get('bad') === undefined);
      api.push({ type: 'DELETED', object: kubeNode('b', '10.0.0.22', undefined, '104') });
      await until(() => store.get('b') === undefined);
      api.push({ type: 'BOOKMARK', resourceVersion: '150' }, 'close');
      await until(() => api.watches.length === 2);
      assert.equal(api.watches[1], '150', 'a closed watch resumes from the bookmark, without a relist');
      assert.equal(api.lists.length, 2);
    } finally {
      await w.stop();
    }
  });

  it('relists at once on 410 Gone and after a backoff on other errors', async () => {
    const store = new PeerStore('a');
    const api = new FakeNodeApi();
    api.nodes.set('a', kubeNode('a', '10.0.0.1', '10.244.1.0/24'));
    api.failLists = 2;
    const w = start(api, store, 500, { baseMs: 400, capMs: 5000 });
    try {
      await until(() => w.watcher.synced);
      assert.equal(api.lists.length, 3, 'two failed lists, then a good one');
      await until(() => api.watches.length === 1);
      api.nodes.set('c', kubeNode('c', '10.0.0.3', '10.244.3.0/24'));
      api.nodes.delete('a');
      api.rv = 200;
      const before = Date.now();
      api.push(new KubeApiError(410, 'Expired', 'too old resource version'));
      await until(() => store.get('c') !== undefined);
      assert.ok(Date.now() - before < 150, 'no backoff (>= 200 ms here) before a relist after 410');
      assert.equal(store.get('a'), undefined, 'the relist replaces the whole view');
      await until(() => api.watches.length === 2);
      assert.equal(api.watches[1], '200');
      api.nodes.set('d', kubeNode('d', '10.0.0.4', '10.244.4.0/24'));
      api.push(new Error('socket hang up'));
      await until(() => store.get('d') !== undefined);
      assert.equal(api.lists.length, 5);
    } finally {
      await w.stop();
    }
  });

  it('in an IPv6-only cluster takes the IPv6 InternalIP as underlay and skips a Node without one', async () => {
    const store = new PeerStore('a', { families: [6], underlayFamily: 6 });
    const api = new FakeNodeApi();
    api.nodes.set('a', kubeNode('a', 'fd00::1', 'fd00:10:0:1::/64'));
    api.nodes.set('v4', kubeNode('v4', '10.0.0.2', 'fd00:10:0:2::/64'));
    const w = start(api, store, 500, undefined, 6);
    try {
      await until(() => w.watcher.synced);
      assert.deepEqual(store.view().nodes, [
        { name: 'a', underlayIP: 'fd00::1', underlayIP6: 'fd00::1', podCIDRs: ['fd00:10:0:1::/64'] },
      ]);
    } finally {
      await w.stop();
    }
  });
});
