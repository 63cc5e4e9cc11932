import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { desiredDatapath } from './desired.js';
import { computePeerFacts, PeerFactsCache } from './peer-facts.js';
import type { UnderlayFacts } from './state.js';
import { testConfig } from './test-fixtures.js';
import type { PeerNode, SelfNode } from './types.js';

const underlay: UnderlayFacts = { iface: 'eth0', mtu: 1500, subnets: ['192.168.71.0/24'] };
const self: SelfNode = { name: 'n1', underlayIP: '192.168.71.1', podCIDRs: ['10.244.1.0/24'] };
const config = testConfig('auto');

describe('PeerFactsCache', () => {
  it('derives parsed and formatted podCIDRs, gateways and the VTEP MAC', () => {
    const facts = computePeerFacts({
      name: 'p',
      underlayIP: '10.0.0.2',
      podCIDRs: ['10.244.2.0/24', 'fd00::/64', '10.245.2.0/24'],
    });
    assert.deepEqual(facts.dsts, ['10.244.2.0/24', '10.245.2.0/24']);
    assert.deepEqual(facts.gateways, ['10.244.2.0', '10.245.2.0']);
    assert.equal(facts.mac, '02:57:0a:00:00:02');
  });

  it('computes each peer object once, remembers errors, and re-derives a replaced object', () => {
    const cache = new PeerFactsCache();
    const peer: PeerNode = { name: 'p', underlayIP: '10.0.0.2', podCIDRs: ['10.244.2.0/24'] };
    assert.equal(cache.get(peer), cache.get(peer), 'same object → same facts, not recomputed');
    const bad: PeerNode = { name: 'b', underlayIP: 'x', podCIDRs: [] };
    assert.throws(() => cache.get(bad), /underlayIP "x" is not IPv4/);
    assert.throws(() => cache.get(bad), /underlayIP "x" is not IPv4/);
    const moved = { ...peer, underlayIP: '10.0.0.3' };
    assert.equal(cache.get(moved).mac, '02:57:0a:00:00:03');
  });

  it('leaves desiredDatapath unchanged, across changes, skips included', () => {
    const cache = new PeerFactsCache();
    const peers: PeerNode[] = [
      { name: 'a', underlayIP: '192.168.71.2', podCIDRs: ['10.244.2.0/24'] },
      { name: 'b', underlayIP: '192.168.72.3', podCIDRs: ['10.244.3.0/24'] },
      { name: 'c', underlayIP: '192.168.72.4', podCIDRs: ['10.244.3.0/24'] },
      { name: 'd', underlayIP: 'nope', podCIDRs: ['10.244.5.0/24'] },
      { name: 'e', underlayIP: '192.168.71.1', podCIDRs: ['10.244.6.0/24'] },
    ];
    for (const list of [
      peers,
      [...peers.slice(1), { name: 'f', underlayIP: '192.168.72.9', podCIDRs: ['10.244.9.0/24'] }],
    ]) {
      assert.deepEqual(
        desiredDatapath(self, list, config, underlay, cache),
        desiredDatapath(self, list, config, underlay),
      );
    }
  });
});
