import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCidr } from '../../common/cidr.js';
import {
  CidrExhaustedError,
  Ipv4PodCidrAllocator,
  type NodeCidrs,
  rebuildAllocator,
  recordNodeCidrs,
} from './cidr-allocator.js';

function allocator(clusterCidrs: string[], mask: number): Ipv4PodCidrAllocator {
  return new Ipv4PodCidrAllocator(
    clusterCidrs.map((c) => parseCidr(c)),
    mask,
  );
}

function node(name: string, ...podCIDRs: string[]): NodeCidrs {
  return { name, uid: `uid-${name}`, podCIDRs };
}

describe('Ipv4PodCidrAllocator', () => {
  it('hands out the lowest free subnet, given what Nodes already hold', () => {
    const table: Array<{ cluster: string[]; mask: number; existing: NodeCidrs[]; next: string }> = [
      { cluster: ['10.244.0.0/16'], mask: 24, existing: [], next: '10.244.0.0/24' },
      { cluster: ['10.244.0.0/16'], mask: 24, existing: [node('a', '10.244.0.0/24')], next: '10.244.1.0/24' },
      { cluster: ['10.244.0.0/16'], mask: 24, existing: [node('a', '10.244.1.0/24')], next: '10.244.0.0/24' },
      {
        cluster: ['10.244.0.0/16'],
        mask: 24,
        existing: [node('a', '10.244.0.0/23'), node('b', '10.244.2.128/25')],
        next: '10.244.3.0/24',
      },
      {
        cluster: ['10.244.0.0/16'],
        mask: 26,
        existing: [node('a', '10.244.0.0/26')],
        next: '10.244.0.64/26',
      },
      {
        cluster: ['10.244.0.0/24', '10.245.0.0/24'],
        mask: 25,
        existing: [node('a', '10.244.0.0/25'), node('b', '10.244.0.128/25')],
        next: '10.245.0.0/25',
      },
      // a podCIDR outside the cluster CIDR blocks nothing
      {
        cluster: ['10.244.0.0/16'],
        mask: 24,
        existing: [node('a', '192.168.0.0/24')],
        next: '10.244.0.0/24',
      },
      // IPv6 entries belong to another family's allocator
      { cluster: ['10.244.0.0/16'], mask: 24, existing: [node('a', 'fd00::/64')], next: '10.244.0.0/24' },
    ];
    for (const row of table) {
      const a = allocator(row.cluster, row.mask);
      rebuildAllocator(a, row.existing);
      assert.equal(a.allocate({ name: 'new', uid: 'u' }), row.next, JSON.stringify(row));
    }
  });

  it('gives every Node a distinct subnet until exhausted, then throws a typed error', () => {
    const a = allocator(['10.244.0.0/22'], 24);
    const got = ['n0', 'n1', 'n2', 'n3'].map((name) => a.allocate({ name, uid: name }));
    assert.deepEqual(got, ['10.244.0.0/24', '10.244.1.0/24', '10.244.2.0/24', '10.244.3.0/24']);
    assert.deepEqual(a.usage(), { total: 4, inUse: 4, free: 0 });
    assert.throws(
      () => a.allocate({ name: 'n4', uid: 'n4' }),
      (err: unknown) =>
        err instanceof CidrExhaustedError && /10\.244\.0\.0\/22/.test(err.message) && /n4/.test(err.message),
    );
    assert.equal(a.heldBy('n4'), undefined);
  });

  it('releases a deleted Node so its subnet is handed out again', () => {
    const a = allocator(['10.244.0.0/23'], 24);
    a.allocate({ name: 'a', uid: 'a' });
    a.allocate({ name: 'b', uid: 'b' });
    assert.deepEqual(a.release('a'), ['10.244.0.0/24']);
    assert.deepEqual(a.release('a'), []);
    assert.deepEqual(a.usage(), { total: 2, inUse: 1, free: 1 });
    assert.equal(a.allocate({ name: 'c', uid: 'c' }), '10.244.0.0/24');
  });

  it('rebuilds from Nodes after a restart without double allocation', () => {
    const first = allocator(['10.244.0.0/16'], 24);
    const nodes = ['a', 'b', 'c'].map((name) => node(name, first.allocate({ name, uid: `uid-${name}` })));
    const restarted = allocator(['10.244.0.0/16'], 24);
    assert.deepEqual(rebuildAllocator(restarted, nodes), []);
    assert.equal(restarted.allocate({ name: 'd', uid: 'd' }), '10.244.3.0/24');
    // a second rebuild forgets what is gone
    rebuildAllocator(restarted, nodes.slice(1));
    assert.deepEqual(restarted.usage().inUse, 2);
    assert.equal(restarted.allocate({ name: 'e', uid: 'e' }), '10.244.0.0/24');
  });

  it('reports podCIDRs outside the cluster CIDR, conflicting or invalid ones', () => {
    const a = allocator(['10.244.0.0/16'], 24);
    const unclean = rebuildAllocator(a, [
      node('a', '10.244.5.0/24'),
      node('b', '10.244.5.0/24'),
      node('c', '10.0.0.0/8'),
      node('d', '10.244.0.0/26'),
      node('e', 'garbage'),
    ]);
    assert.deepEqual(
      unclean.map((u) => [u.node, u.outcome.kind]),
      [
        ['b', 'shared'],
        ['c', 'shared'],
        ['d', 'shared'], // inside c's /8
        ['e', 'invalid'],
      ],
    );
    // 10.0.0.0/8 covers the whole cluster CIDR: nothing is free while node c has it
    assert.throws(() => a.allocate({ name: 'x', uid: 'x' }), CidrExhaustedError);
    rebuildAllocator(a, [node('a', '10.244.5.0/24'), node('f', '192.168.7.0/24')]);
    assert.deepEqual(a.usage().inUse, 1);
  });

  it('reports an outside podCIDR once, then treats it as known', () => {
    const a = allocator(['10.244.0.0/16'], 24);
    const n = node('a', '172.16.0.0/24');
    assert.deepEqual(
      recordNodeCidrs(a, n).map((u) => u.outcome.kind),
      ['outside'],
    );
    assert.deepEqual(recordNodeCidrs(a, n), []);
    assert.deepEqual(a.usage().inUse, 0);
  });

  it('re-records a re-created Node (new uid) and a Node whose podCIDR changed under a tentative claim', () => {
    const a = allocator(['10.244.0.0/16'], 24);
    assert.equal(a.allocate({ name: 'a', uid: 'old' }), '10.244.0.0/24');
    // another writer set a different podCIDR before our patch landed
    recordNodeCidrs(a, { name: 'a', uid: 'old', podCIDRs: ['10.244.9.0/24'] });
    assert.deepEqual(a.heldBy('a'), { uid: 'old', cidrs: ['10.244.9.0/24'] });
    assert.equal(a.allocate({ name: 'b', uid: 'b' }), '10.244.0.0/24');
    // same name, new object: the old claim goes
    assert.deepEqual(a.claim({ name: 'a', uid: 'new' }, '10.244.3.0/24'), {
      kind: 'claimed',
      cidr: '10.244.3.0/24',
    });
    assert.deepEqual(a.heldBy('a'), { uid: 'new', cidrs: ['10.244.3.0/24'] });
    assert.deepEqual(a.usage().inUse, 2);
  });

  it('claims idempotently', () => {
    const a = allocator(['10.244.0.0/16'], 24);
    const owner = { name: 'a', uid: 'a' };
    a.claim(owner, '10.244.1.0/24');
    assert.deepEqual(a.claim(owner, '10.244.1.0/24'), { kind: 'claimed', cidr: '10.244.1.0/24' });
    assert.deepEqual(a.usage().inUse, 1);
  });

  it('refuses a mask that does not fit the cluster CIDR', () => {
    assert.throws(() => allocator(['10.244.0.0/16'], 15), /does not fit/);
    assert.throws(() => allocator([], 24), /no IPv4 cluster CIDR/);
  });
});
