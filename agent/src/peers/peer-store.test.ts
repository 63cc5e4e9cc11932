import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PeerStore } from './peer-store.js';

const a = { name: 'a', underlayIP: '10.0.0.1', podCIDRs: ['10.244.1.0/24'] };
const b = { name: 'b', underlayIP: '10.0.0.2', podCIDRs: ['10.244.2.0/24'] };
const c = { name: 'c', underlayIP: '10.0.1.3', podCIDRs: [] };

function counted(store: PeerStore): { count: () => number } {
  let n = 0;
  store.onChange(() => n++);
  return { count: () => n };
}

describe('PeerStore', () => {
  it('splits self from peers and leaves out peers without a podCIDR', () => {
    const store = new PeerStore('a');
    store.upsert(c);
    store.upsert(b);
    store.upsert(a);
    const view = store.view();
    assert.deepEqual(view.self, a);
    assert.deepEqual(view.peers, [b]);
    assert.deepEqual(
      view.nodes.map((n) => n.name),
      ['a', 'b', 'c'],
    );
  });

  it('emits on real changes only', () => {
    const store = new PeerStore('a');
    const events = counted(store);
    assert.equal(store.upsert(b), true);
    assert.equal(store.upsert({ ...b, podCIDRs: ['10.244.2.0/24'] }), false);
    assert.equal(events.count(), 1);
    assert.equal(store.upsert({ ...b, underlayIP: '10.0.0.9' }), true);
    assert.equal(store.upsert({ ...b, podCIDRs: ['10.244.2.0/24', '10.245.2.0/24'] }), true);
    assert.equal(store.remove('zzz'), false);
    assert.equal(store.remove('b'), true);
    assert.equal(events.count(), 4);
    assert.equal(store.version, 4);
  });

  it('replaceAll drops nodes that are gone, emits once, and records the source', () => {
    const store = new PeerStore('a');
    store.replaceAll([a, b, c], 'cache');
    const events = counted(store);
    assert.equal(store.replaceAll([a, b], 'api'), true);
    assert.equal(events.count(), 1);
    assert.equal(store.view().source, 'api');
    assert.equal(store.get('c'), undefined);
    assert.equal(store.replaceAll([b, a], 'api'), false);
    assert.equal(events.count(), 1);
    store.replaceAll([a, b], 'cache');
    assert.equal(events.count(), 2, 'a source change alone is a change');
  });

  it('keeps a view stable until the next change and copies input', () => {
    const store = new PeerStore('a');
    const mutable = { name: 'b', underlayIP: '10.0.0.2', podCIDRs: ['10.244.2.0/24'] };
    store.upsert(mutable);
    const first = store.view();
    mutable.podCIDRs.push('10.244.9.0/24');
    assert.equal(store.view(), first);
    assert.deepEqual(first.peers[0]?.podCIDRs, ['10.244.2.0/24']);
    store.upsert(a);
    assert.notEqual(store.view(), first);
  });

  it('WireGuard keys from gossip ride on the API node objects; a key change is a new object', () => {
    const store = new PeerStore('self');
    const events = counted(store);
    store.replaceAll([a, b], 'api');
    const k1 = Buffer.alloc(32, 1).toString('base64');
    const k2 = Buffer.alloc(32, 2).toString('base64');
    assert.equal(store.syncWireguardKeys(new Map([['b', k1]])), true);
    const before = store.get('b');
    assert.equal(before?.wgPublicKey, k1);
    assert.equal(store.get('a')?.wgPublicKey, undefined);
    assert.equal(store.syncWireguardKeys(new Map([['b', k1]])), false, 'same key: no change');
    store.upsert({ ...b }); // the API knows no key: the one from gossip stays
    assert.equal(store.get('b'), before, 'an unchanged API update keeps the object');
    assert.equal(store.syncWireguardKeys(new Map([['b', k2]])), true);
    assert.notEqual(store.get('b'), before, 'rotated key: a new object (the datapath recomputes the peer)');
    assert.equal(store.get('b')?.wgPublicKey, k2);
    assert.equal(store.syncWireguardKeys(new Map([['b', undefined]])), true, 'the record dropped its key');
    assert.equal(store.get('b')?.wgPublicKey, undefined);
    assert.equal(events.count(), 4);
  });

  it('a cached WireGuard key is kept when the API lists the node without one', () => {
    const store = new PeerStore('self');
    const k = Buffer.alloc(32, 3).toString('base64');
    store.replaceAll([{ ...b, wgPublicKey: k }], 'cache');
    store.replaceAll([b], 'api');
    assert.equal(store.get('b')?.wgPublicKey, k);
  });
});

describe('PeerStore, dual-stack (ADR 18)', () => {
  const a6 = { ...a, underlayIP6: 'fd00::1', podCIDRs: ['10.244.1.0/24', 'fd00:10:0:1::/64'] };
  const b6 = { ...b, underlayIP6: 'fd00::2', podCIDRs: ['10.244.2.0/24', 'fd00:10:0:2::/64'] };

  it('carries underlayIP6 and IPv6 podCIDRs; a change of either is a change', () => {
    const store = new PeerStore('a');
    const events = counted(store);
    store.replaceAll([a6, b6], 'api');
    assert.deepEqual(store.view().self, a6);
    assert.deepEqual(store.view().peers, [b6]);
    assert.equal(store.upsert({ ...b6 }), false, 'same fields: no change');
    assert.equal(store.upsert({ ...b6, underlayIP6: 'fd00::22' }), true);
    assert.equal(store.upsert(b), true, 'the IPv6 InternalIP and podCIDR went away');
    assert.equal('underlayIP6' in (store.get('b') ?? {}), false, 'no underlayIP6 key when none');
    assert.equal(events.count(), 3);
  });

  it('an IPv4-only cluster (families [4]) drops IPv6 podCIDRs and underlayIP6 from every source', () => {
    const store = new PeerStore('a', { families: [4] });
    const events = counted(store);
    store.replaceAll([a6], 'cache');
    assert.deepEqual(store.view().self, a);
    assert.equal(store.syncGossip([{ ...b6, state: 'alive' }]), true);
    assert.deepEqual(store.get('b'), b);
    assert.equal(store.syncGossip([{ ...b6, state: 'alive' }]), false, 'a repeated offer is no change');
    store.replaceAll([a6, b6], 'api');
    assert.deepEqual(store.view().nodes, [a, b]);
    assert.equal(
      store.upsert({ ...b6, podCIDRs: ['10.244.2.0/24', 'fd00:99::/64'] }),
      false,
      'IPv6 only: no change',
    );
    assert.equal(events.count(), 3);
  });

  describe('IPv6-only cluster (families [6], underlay IPv6; ADR 19)', () => {
    const a6o = { name: 'a', underlayIP: 'fd00::1', underlayIP6: 'fd00::1', podCIDRs: ['fd00:10:0:1::/64'] };
    const b6o = { name: 'b', underlayIP: 'fd00::2', underlayIP6: 'fd00::2', podCIDRs: ['fd00:10:0:2::/64'] };
    const newStore = () => {
      const refused: string[] = [];
      const store = new PeerStore('a', {
        families: [6],
        underlayFamily: 6,
        onRefused: (node, reason) => refused.push(`${node.name}: ${reason}`),
      });
      return { store, refused };
    };

    it('keeps IPv6 nodes as they are and drops IPv4 podCIDRs', () => {
      const { store, refused } = newStore();
      store.replaceAll([a6o, { ...b6o, podCIDRs: ['10.244.2.0/24', 'fd00:10:0:2::/64'] }], 'api');
      assert.deepEqual(store.view().self, a6o);
      assert.deepEqual(store.view().peers, [b6o]);
      assert.deepEqual(refused, []);
    });

    it('leaves out a node with an IPv4 underlay from any source, reported once per reason', () => {
      const { store, refused } = newStore();
      const events = counted(store);
      const c4 = { name: 'c', underlayIP: '10.0.0.3', podCIDRs: ['fd00:10:0:3::/64'] };
      store.replaceAll([a6o, c4], 'cache');
      assert.deepEqual(
        store.view().nodes.map((n) => n.name),
        ['a'],
      );
      assert.equal(store.syncGossip([{ ...c4, state: 'alive' }]), false, 'gossip does not bring it back');
      assert.equal(store.upsert(c4), false);
      assert.deepEqual(refused, [
        "c: underlayIP 10.0.0.3 is IPv4, the cluster's underlay is IPv6 (a cluster mixing IPv4-underlay and IPv6-only nodes is not supported)",
      ]);
      assert.equal(store.upsert({ ...c4, underlayIP: 'fd00::3', underlayIP6: 'fd00::3' }), true, 'fixed: in');
      assert.equal(store.upsert(c4), true, 'an IPv4 underlay again: the entry goes');
      assert.equal(store.get('c'), undefined);
      assert.equal(refused.length, 2, 'reported again after it was accepted in between');
      assert.equal(events.count(), 3);
    });

    it('an IPv4-underlay cluster refuses an IPv6-only node the same way', () => {
      const refused: string[] = [];
      const store = new PeerStore('a', { underlayFamily: 4, onRefused: (n) => refused.push(n.name) });
      store.replaceAll([a, b6o], 'api');
      assert.deepEqual(
        store.view().nodes.map((n) => n.name),
        ['a'],
      );
      assert.deepEqual(refused, ['b']);
    });
  });
});
