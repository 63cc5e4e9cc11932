import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { desiredDatapath } from './desired.js';
import { planDatapath } from './plan.js';
import { planFromLastApplied } from './plan-trusted.js';
import type { UnderlayFacts } from './state.js';
import { lcg, testConfig } from './test-fixtures.js';
import type { PeerNode, SelfNode } from './types.js';

const underlay: UnderlayFacts = { iface: 'eth0', mtu: 1500, subnets: ['192.168.71.0/24'] };
const self: SelfNode = { name: 'n000', underlayIP: '192.168.71.1', podCIDRs: ['10.244.0.0/24'] };
const config = testConfig('auto');

function randomPeer(rand: () => number): PeerNode {
  const i = 1 + Math.floor(rand() * 200);
  const subnet = rand() < 0.5 ? '192.168.71' : '192.168.72';
  const cidr = `10.244.${1 + Math.floor(rand() * 60)}.0/24`;
  return { name: `n${String(i).padStart(3, '0')}`, underlayIP: `${subnet}.${i + 1}`, podCIDRs: [cidr] };
}

/** Adds, removes and changes a few peers (changes may clash with others' podCIDRs). */
function mutate(peers: readonly PeerNode[], rand: () => number): PeerNode[] {
  const byName = new Map(peers.map((p) => [p.name, p]));
  const steps = 1 + Math.floor(rand() * 4);
  for (let s = 0; s < steps; s++) {
    const p = randomPeer(rand);
    if (rand() < 0.3 && byName.size > 0)
      byName.delete([...byName.keys()][Math.floor(rand() * byName.size)] ?? '');
    else byName.set(p.name, p);
  }
  return [...byName.values()];
}

describe('planFromLastApplied', () => {
  it('plans exactly what planDatapath plans against the last desired state (randomised)', () => {
    const rand = lcg(42);
    let peers: PeerNode[] = [];
    for (let i = 0; i < 80; i++) peers = mutate(peers, rand);
    const seen = new Set<string>();
    for (const backend of ['auto', 'vxlan', 'hostgw'] as const) {
      const cfg = { ...config, backend };
      let last = desiredDatapath(self, peers, cfg, underlay);
      for (let round = 0; round < 100; round++) {
        peers = mutate(peers, rand);
        const desired = desiredDatapath(self, peers, cfg, underlay);
        const plan = planFromLastApplied(desired, last);
        assert.deepEqual(plan, planDatapath(desired, last), `${backend} #${round}`);
        for (const op of plan) seen.add(op.op);
        last = desired;
      }
    }
    const kinds = [
      'route-add',
      'route-del',
      'route-replace',
      'neigh-replace',
      'neigh-del',
      'fdb-replace',
      'fdb-del',
    ];
    for (const op of kinds) assert.ok(seen.has(op), `the random changes exercised ${op}`);
  });

  it('plans only the changed peer, and everything again when the VXLAN device is recreated', () => {
    const peers: PeerNode[] = [
      { name: 'a', underlayIP: '192.168.72.2', podCIDRs: ['10.244.2.0/24'] },
      { name: 'b', underlayIP: '192.168.72.3', podCIDRs: ['10.244.3.0/24'] },
    ];
    const last = desiredDatapath(self, peers, config, underlay);
    const added = desiredDatapath(
      self,
      [...peers, { name: 'c', underlayIP: '192.168.72.4', podCIDRs: ['10.244.4.0/24'] }],
      config,
      underlay,
    );
    assert.deepEqual(
      planFromLastApplied(added, last).map((o) => o.op),
      ['neigh-replace', 'route-add', 'route-add', 'fdb-replace'],
    );
    const otherVni = desiredDatapath(self, peers, { ...config, vxlanVNI: 2 }, underlay);
    const ops = planFromLastApplied(otherVni, last).map((o) => o.op);
    assert.deepEqual(
      ops,
      planDatapath(otherVni, last).map((o) => o.op),
    );
    assert.equal(
      ops.filter((o) => o === 'route-add').length,
      4,
      'the recreated device gets all its routes back (main and reply table)',
    );
  });
});
