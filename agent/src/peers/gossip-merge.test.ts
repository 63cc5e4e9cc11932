import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PeerNode } from '../datapath/types.js';
import { type GossipPeer, type NodeSource, planGossipMerge } from './gossip-merge.js';
import type { ViewSource } from './peer-store.js';
import { PeerStore } from './peer-store.js';

const self = { name: 'self', underlayIP: '10.0.0.1', podCIDRs: ['10.244.1.0/24'] };
const b = { name: 'b', underlayIP: '10.0.0.2', podCIDRs: ['10.244.2.0/24'] };
const c = { name: 'c', underlayIP: '10.0.1.3', podCIDRs: ['10.244.3.0/24'] };
const alive = (n: PeerNode, state: GossipPeer['state'] = 'alive'): GossipPeer => ({ ...n, state });
const entries = (...list: Array<[PeerNode, NodeSource]>) =>
  new Map(list.map(([node, source]) => [node.name, { node, source }]));

describe('planGossipMerge (API authoritative, gossip fills in while the API has not listed)', () => {
  const rows: Array<{
    what: string;
    source: ViewSource;
    current: ReturnType<typeof entries>;
    offered: GossipPeer[];
    put: string[];
    drop: string[];
  }> = [
    {
      what: 'adds an alive peer the cache lacks',
      source: 'cache',
      current: entries([self, 'cache']),
      offered: [alive(b)],
      put: ['b'],
      drop: [],
    },
    {
      what: 'adds nothing once the API listed',
      source: 'api',
      current: entries([self, 'api']),
      offered: [alive(b)],
      put: [],
      drop: [],
    },
    {
      what: 'never overrides a cache entry (other IP claimed)',
      source: 'cache',
      current: entries([self, 'cache'], [b, 'cache']),
      offered: [alive({ ...b, underlayIP: '10.9.9.9' })],
      put: [],
      drop: [],
    },
    {
      what: 'never overrides an API entry',
      source: 'empty',
      current: entries([b, 'api']),
      offered: [alive({ ...b, podCIDRs: ['10.244.99.0/24'] })],
      put: [],
      drop: [],
    },
    {
      what: 'ignores self, peers without podCIDRs, and new peers not alive',
      source: 'empty',
      current: entries(),
      offered: [alive(self), alive({ ...b, podCIDRs: [] }), alive(c, 'suspect')],
      put: [],
      drop: [],
    },
    {
      what: 'keeps a gossip entry while suspect or dead, follows its fields',
      source: 'cache',
      current: entries([b, 'gossip'], [c, 'gossip']),
      offered: [alive({ ...b, underlayIP: '10.0.0.22' }, 'dead'), alive(c, 'suspect')],
      put: ['b'],
      drop: [],
    },
    {
      what: 'drops a gossip entry that left or is no longer known',
      source: 'cache',
      current: entries([b, 'gossip'], [c, 'gossip']),
      offered: [alive(b, 'left')],
      put: [],
      drop: ['b', 'c'],
    },
    {
      what: 'drops every gossip entry once the API listed',
      source: 'api',
      current: entries([b, 'gossip']),
      offered: [alive(b)],
      put: [],
      drop: ['b'],
    },
  ];
  for (const r of rows) {
    it(r.what, () => {
      const plan = planGossipMerge('self', r.source, r.current, r.offered);
      assert.deepEqual(
        plan.put.map((n) => n.name),
        r.put,
      );
      assert.deepEqual(plan.drop, r.drop);
    });
  }
});

describe('planGossipMerge, dual-stack', () => {
  it('puts the record’s underlayIP6 and IPv6 podCIDRs, and follows a change of underlayIP6', () => {
    const b6 = { ...b, underlayIP6: 'fd00::2', podCIDRs: ['10.244.2.0/24', 'fd00:10:0:2::/64'] };
    const first = planGossipMerge('self', 'cache', entries([self, 'cache']), [alive(b6)]);
    assert.deepEqual(first.put, [b6]);
    const same = planGossipMerge('self', 'cache', entries([b6, 'gossip']), [alive(b6)]);
    assert.deepEqual(same.put, []);
    const moved = { ...b6, underlayIP6: 'fd00::22' };
    const next = planGossipMerge('self', 'cache', entries([b6, 'gossip']), [alive(moved)]);
    assert.deepEqual(next.put, [moved]);
    const gone = planGossipMerge('self', 'cache', entries([b6, 'gossip']), [alive(b)]);
    assert.deepEqual(gone.put, [b], 'a record without underlayIP6 puts a node without one');
    assert.equal('underlayIP6' in (gone.put[0] ?? {}), false);
  });
});

describe('PeerStore with gossip-fed peers', () => {
  it('adds gossip peers during an outage, tags them, and lets the API list replace them', () => {
    const store = new PeerStore('self');
    store.replaceAll([self], 'cache');
    let events = 0;
    store.onChange(() => events++);
    assert.equal(store.syncGossip([alive(b)]), true);
    assert.equal(store.syncGossip([alive(b)]), false, 'no-op merge emits nothing');
    assert.equal(events, 1);
    assert.equal(store.sourceOf('b'), 'gossip');
    assert.equal(store.sourceOf('self'), 'cache');
    assert.deepEqual(store.view().peers, [b]);

    store.replaceAll([self, c], 'api');
    assert.equal(store.get('b'), undefined, 'the API view replaces everything');
    assert.equal(store.sourceOf('c'), 'api');
    assert.equal(store.syncGossip([alive(b)]), false, 'nothing from gossip after the API listed');
  });

  it('an API upsert takes over a gossip entry', () => {
    const store = new PeerStore('self');
    store.syncGossip([alive(b)]);
    let events = 0;
    store.onChange(() => events++);
    assert.equal(store.upsert(b), true, 'same fields, new source: still a change');
    assert.equal(events, 1);
    assert.equal(store.sourceOf('b'), 'empty');
    assert.equal(store.syncGossip([alive({ ...b, underlayIP: '10.9.9.9' })]), false);
    assert.equal(store.get('b')?.underlayIP, b.underlayIP);
  });
});
