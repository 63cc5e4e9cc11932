import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCidr } from '../../common/cidr.js';
import { formatIpPrefix, nthSubprefix, parseIpPrefix } from '../../common/ip-prefix.js';
import {
  CidrExhaustedError,
  FamilyPodCidrAllocator,
  Ipv4PodCidrAllocator,
  type NodeCidrs,
  type PodCidrAllocator,
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

interface LowestFreeRow {
  readonly cluster: string[];
  readonly mask: number;
  readonly existing: NodeCidrs[];
  readonly next: string;
}

/** Each row: rebuilt from `existing`, the allocator hands out `next`. */
function assertLowestFree(
  make: (cluster: string[], mask: number) => PodCidrAllocator,
  table: LowestFreeRow[],
) {
  for (const row of table) {
    const a = make(row.cluster, row.mask);
    rebuildAllocator(a, row.existing);
    assert.equal(a.allocate({ name: 'new', uid: 'u' }), row.next, JSON.stringify(row));
  }
}

describe('Ipv4PodCidrAllocator', () => {
  it('hands out the lowest free subnet, given what Nodes already hold', () => {
    const table: LowestFreeRow[] = [
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
    assertLowestFree(allocator, table);
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

function allocator6(clusterCidrs: string[], mask: number): FamilyPodCidrAllocator {
  return new FamilyPodCidrAllocator(
    6,
    clusterCidrs.map((c) => parseIpPrefix(c)),
    mask,
  );
}

describe('FamilyPodCidrAllocator (IPv6)', () => {
  it('hands out the lowest free /64, given what Nodes already hold', () => {
    const table: LowestFreeRow[] = [
      { cluster: ['fd00:10::/48'], mask: 64, existing: [], next: 'fd00:10::/64' },
      {
        cluster: ['fd00:10::/48'],
        mask: 64,
        existing: [node('a', 'fd00:10::/64')],
        next: 'fd00:10:0:1::/64',
      },
      // uppercase and uncompressed text is the same podCIDR
      {
        cluster: ['fd00:10::/48'],
        mask: 64,
        existing: [node('a', 'FD00:0010:0000:0000::/64')],
        next: 'fd00:10:0:1::/64',
      },
      // a /63 holds two slots, a /80 inside one slot holds that slot
      {
        cluster: ['fd00:10::/48'],
        mask: 64,
        existing: [node('a', 'fd00:10::/63'), node('b', 'fd00:10:0:2:1::/80')],
        next: 'fd00:10:0:3::/64',
      },
      { cluster: ['fd00::/120'], mask: 124, existing: [node('a', 'fd00::/124')], next: 'fd00::10/124' },
      // IPv4 entries and prefixes outside the cluster CIDR block nothing
      {
        cluster: ['fd00:10::/48'],
        mask: 64,
        existing: [node('a', '10.244.0.0/24', 'fd00:11::/64')],
        next: 'fd00:10::/64',
      },
    ];
    assertLowestFree(allocator6, table);
  });

  it('fills a /48 with 65536 /64s, then throws a typed error', () => {
    const a = allocator6(['fd00:10::/48'], 64);
    assert.deepEqual(a.usage(), { total: 65536, inUse: 0, free: 65536 });
    // Nodes holding a /49, a /50, ... a /64 cover the /48 except its last /64
    const cluster = parseIpPrefix('fd00:10::/48');
    const holders = Array.from({ length: 16 }, (_, i) => {
      const len = 49 + i;
      const first64 = 0x10000n - (1n << BigInt(65 - len)); // in /64 units
      return node(`n${len}`, formatIpPrefix(nthSubprefix(cluster, len, first64 >> BigInt(64 - len))));
    });
    assert.deepEqual(rebuildAllocator(a, holders), []);
    assert.deepEqual(a.usage(), { total: 65536, inUse: 65535, free: 1 });
    assert.equal(a.allocate({ name: 'last', uid: 'last' }), 'fd00:10:0:ffff::/64');
    assert.throws(
      () => a.allocate({ name: 'more', uid: 'more' }),
      (err: unknown) => err instanceof CidrExhaustedError && /fd00:10::\/48/.test(err.message),
    );
  });

  it('reports mapped, zoned and other-family text as invalid, never as IPv4', () => {
    const a = allocator6(['fd00:10::/48'], 64);
    assert.equal(a.handles('10.244.0.0/24'), false);
    assert.equal(a.handles('fd00::/64'), true);
    const unclean = rebuildAllocator(a, [node('m', '::ffff:10.244.0.0/120'), node('z', 'fe80::%eth0/64')]);
    assert.deepEqual(
      unclean.map((u) => [u.node, u.outcome.kind]),
      [
        ['m', 'invalid'],
        ['z', 'invalid'],
      ],
    );
  });

  it('refuses cluster CIDRs of the other family and masks that do not fit', () => {
    assert.throws(() => new FamilyPodCidrAllocator(6, [parseIpPrefix('10.0.0.0/8')], 24), /not IPv6/);
    assert.throws(() => allocator6(['fd00::/48'], 47), /does not fit/);
    assert.throws(() => allocator6(['fd00::/48'], 129), /does not fit/);
    assert.throws(() => allocator6(['fd00::/16'], 64), /too many subnets/);
    assert.throws(() => allocator6([], 64), /no IPv6 cluster CIDR/);
  });
});
