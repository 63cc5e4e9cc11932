import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type KubeNode, NodeParseError, parseKubeNode, parsePeerRecord } from './node-convert.js';

function node(
  spec: NonNullable<KubeNode['spec']>,
  addresses: Array<{ type: string; address: string }>,
): KubeNode {
  return { metadata: { name: 'n1' }, spec, status: { addresses } };
}
const internal = [
  { type: 'Hostname', address: 'n1' },
  { type: 'InternalIP', address: 'fd00::1' },
  { type: 'InternalIP', address: '192.168.1.10' },
];

describe('parseKubeNode', () => {
  const good: Array<[string, KubeNode, string[]]> = [
    [
      'podCIDRs',
      node({ podCIDRs: ['10.244.1.0/24'], podCIDR: '10.244.1.0/24' }, internal),
      ['10.244.1.0/24'],
    ],
    ['podCIDR only', node({ podCIDR: '10.244.2.0/24' }, internal), ['10.244.2.0/24']],
    [
      'dual stack',
      node({ podCIDRs: ['10.244.3.0/24', 'fd00:10::/64'] }, internal),
      ['10.244.3.0/24', 'fd00:10::/64'],
    ],
    ['unassigned', node({}, internal), []],
    ['no spec', { metadata: { name: 'n1' }, status: { addresses: internal } }, []],
  ];
  for (const [title, input, podCIDRs] of good) {
    it(`converts a node with ${title}`, () => {
      const want = { name: 'n1', underlayIP: '192.168.1.10', underlayIP6: 'fd00::1', podCIDRs };
      assert.deepEqual(parseKubeNode(input), want);
    });
  }

  const bad: Array<[string, KubeNode, string, unknown]> = [
    ['no name', { metadata: {} }, 'metadata.name', undefined],
    ['no InternalIP', node({}, [{ type: 'ExternalIP', address: '1.2.3.4' }]), 'status.addresses', []],
    [
      'IPv6-only InternalIP',
      node({}, [{ type: 'InternalIP', address: 'fd00::1' }]),
      'status.addresses',
      ['fd00::1'],
    ],
    ['bad podCIDR', node({ podCIDR: '10.244.1.1/24' }, internal), 'spec.podCIDR', '10.244.1.1/24'],
    ['garbage podCIDRs', node({ podCIDRs: ['nope'] }, internal), 'spec.podCIDRs', 'nope'],
    [
      'two IPv4 podCIDRs',
      node({ podCIDRs: ['10.244.1.0/24', '10.244.2.0/24'] }, internal),
      'spec.podCIDRs',
      ['10.244.1.0/24', '10.244.2.0/24'],
    ],
    [
      'two IPv6 podCIDRs',
      node({ podCIDRs: ['fd00:10::/64', '10.244.1.0/24', 'fd00:11::/64'] }, internal),
      'spec.podCIDRs',
      ['fd00:10::/64', '10.244.1.0/24', 'fd00:11::/64'],
    ],
    [
      'IPv6 podCIDR with host bits',
      node({ podCIDRs: ['fd00:10::1/64'] }, internal),
      'spec.podCIDRs',
      'fd00:10::1/64',
    ],
    [
      'IPv4-mapped IPv6 podCIDR',
      node({ podCIDRs: ['::ffff:10.244.0.0/120'] }, internal),
      'spec.podCIDRs',
      '::ffff:10.244.0.0/120',
    ],
  ];
  for (const [title, input, field, value] of bad) {
    it(`rejects a node with ${title} naming ${field}`, () => {
      assert.throws(
        () => parseKubeNode(input),
        (err: unknown) =>
          err instanceof NodeParseError &&
          err.field === field &&
          assert.deepEqual(err.value, value) === undefined,
      );
    });
  }
});

describe('parseKubeNode, dual-stack (ADR 18)', () => {
  const v4 = { type: 'InternalIP', address: '192.168.1.10' };
  const table: Array<[string, KubeNode, { underlayIP6?: string; podCIDRs: string[] }]> = [
    // IPv4 first whatever the order of spec.podCIDRs; RFC 5952 text
    [
      'IPv6 podCIDR listed first, in long form',
      node({ podCIDRs: ['FD00:10:0:0::/64', '10.244.3.0/24'] }, [
        v4,
        { type: 'InternalIP', address: 'FD00::0:1' },
      ]),
      { underlayIP6: 'fd00::1', podCIDRs: ['10.244.3.0/24', 'fd00:10::/64'] },
    ],
    ['IPv4-only node', node({ podCIDR: '10.244.2.0/24' }, [v4]), { podCIDRs: ['10.244.2.0/24'] }],
    [
      'the first IPv6 InternalIP; ExternalIPs and unparsable ones ignored',
      node({}, [
        { type: 'ExternalIP', address: '2001:db8::9' },
        { type: 'InternalIP', address: 'garbage' },
        { type: 'InternalIP', address: '::ffff:192.168.1.10' },
        v4,
        { type: 'InternalIP', address: '2001:db8::10' },
        { type: 'InternalIP', address: '2001:db8::11' },
      ]),
      { underlayIP6: '2001:db8::10', podCIDRs: [] },
    ],
    [
      'IPv6 podCIDR without an IPv6 InternalIP (reached through the tunnel)',
      node({ podCIDRs: ['10.244.3.0/24', 'fd00:10::/64'] }, [v4]),
      { podCIDRs: ['10.244.3.0/24', 'fd00:10::/64'] },
    ],
  ];
  for (const [title, input, want] of table) {
    it(`converts ${title}`, () => {
      assert.deepEqual(parseKubeNode(input), { name: 'n1', underlayIP: '192.168.1.10', ...want });
    });
  }

  it('says a Node with only IPv6 InternalIPs needs an IPv6-only cluster', () => {
    assert.throws(
      () => parseKubeNode(node({ podCIDRs: ['fd00:10::/64'] }, [{ type: 'InternalIP', address: 'fd00::1' }])),
      /invalid status\.addresses=\["fd00::1"\]: no IPv4 InternalIP \(a Node with only IPv6 InternalIPs needs an IPv6-only cluster/,
    );
  });

  it('names the family when a node has two podCIDRs of one', () => {
    assert.throws(
      () => parseKubeNode(node({ podCIDRs: ['fd00:10::/64', 'fd00:11::/64'] }, internal)),
      /spec\.podCIDRs.*two IPv6 podCIDRs \(fd00:10::\/64, fd00:11::\/64\): at most one per family/,
    );
  });
});

describe('parseKubeNode, IPv6-only cluster (ADR 19)', () => {
  const table: Array<[string, KubeNode, { underlayIP: string; podCIDRs: string[] }]> = [
    [
      'an IPv6-only Node',
      node({ podCIDRs: ['fd00:10:244:1::/64'] }, [{ type: 'InternalIP', address: 'FD00::0:1' }]),
      { underlayIP: 'fd00::1', podCIDRs: ['fd00:10:244:1::/64'] },
    ],
    [
      'a Node that also has an IPv4 InternalIP (ignored: the underlay is IPv6)',
      node({ podCIDR: 'fd00:10:244:2::/64' }, internal),
      { underlayIP: 'fd00::1', podCIDRs: ['fd00:10:244:2::/64'] },
    ],
    [
      'the first usable IPv6 InternalIP; ExternalIPs and IPv4-mapped ones skipped',
      node({}, [
        { type: 'ExternalIP', address: '2001:db8::9' },
        { type: 'InternalIP', address: '::ffff:192.168.1.10' },
        { type: 'InternalIP', address: '2001:db8::10' },
        { type: 'InternalIP', address: '2001:db8::11' },
      ]),
      { underlayIP: '2001:db8::10', podCIDRs: [] },
    ],
  ];
  for (const [title, input, want] of table) {
    it(`converts ${title}: underlayIP = underlayIP6 = the IPv6 InternalIP`, () => {
      assert.deepEqual(parseKubeNode(input, 6), { name: 'n1', underlayIP6: want.underlayIP, ...want });
    });
  }

  const bad: Array<[string, KubeNode, unknown]> = [
    [
      'only an IPv4 InternalIP',
      node({}, [{ type: 'InternalIP', address: '192.168.1.10' }]),
      ['192.168.1.10'],
    ],
    ['only an IPv6 ExternalIP', node({}, [{ type: 'ExternalIP', address: '2001:db8::9' }]), []],
    ['no addresses', { metadata: { name: 'n1' } }, []],
  ];
  for (const [title, input, value] of bad) {
    it(`refuses a Node with ${title}, naming status.addresses`, () => {
      assert.throws(
        () => parseKubeNode(input, 6),
        (err: unknown) =>
          err instanceof NodeParseError &&
          err.field === 'status.addresses' &&
          /no IPv6 InternalIP \(the cluster is IPv6-only/.test(err.message) &&
          assert.deepEqual(err.value, value) === undefined,
      );
    });
  }

  it('leaves IPv4 and dual-stack clusters as they were (family 4 is the default)', () => {
    const n = node({ podCIDRs: ['10.244.3.0/24', 'fd00:10::/64'] }, internal);
    assert.deepEqual(parseKubeNode(n, 4), parseKubeNode(n));
    assert.equal(parseKubeNode(n).underlayIP, '192.168.1.10');
  });
});

describe('parsePeerRecord', () => {
  it('accepts a valid record and rejects bad fields', () => {
    const rec = { name: 'n2', underlayIP: '10.0.0.2', podCIDRs: ['10.244.2.0/24'] };
    assert.deepEqual(parsePeerRecord(rec), rec);
    assert.throws(() => parsePeerRecord({ ...rec, underlayIP: 'x' }), /underlayIP/);
    assert.throws(() => parsePeerRecord({ ...rec, podCIDRs: '10.244.2.0/24' }), /podCIDRs/);
    assert.throws(() => parsePeerRecord({ ...rec, podCIDRs: ['10.244.2.7/24'] }), /podCIDRs/);
    assert.throws(() => parsePeerRecord(null), /name/);
  });

  it('keeps both families and underlayIP6, canonical; an old record without them still loads', () => {
    const rec = {
      name: 'n2',
      underlayIP: '10.0.0.2',
      underlayIP6: 'FD00:0::2',
      podCIDRs: ['fd00:10:0:2::/64', '10.244.2.0/24'],
    };
    assert.deepEqual(parsePeerRecord(rec), {
      name: 'n2',
      underlayIP: '10.0.0.2',
      underlayIP6: 'fd00::2',
      podCIDRs: ['10.244.2.0/24', 'fd00:10:0:2::/64'],
    });
    const old = { name: 'n3', underlayIP: '10.0.0.3', podCIDRs: ['10.244.3.0/24'] };
    assert.deepEqual(parsePeerRecord(old), old);
    const bad: Array<[unknown, RegExp]> = [
      ['10.0.0.2', /underlayIP6="10\.0\.0\.2": not an IPv6 address/],
      ['fd00::2/64', /underlayIP6.*no \/length/],
      ['fe80::1%eth0', /underlayIP6.*zone/],
      [42, /underlayIP6=42: not a string/],
      ['', /underlayIP6/],
    ];
    for (const [underlayIP6, reason] of bad) {
      assert.throws(() => parsePeerRecord({ ...rec, underlayIP6 }), reason, String(underlayIP6));
    }
    assert.throws(
      () => parsePeerRecord({ ...rec, podCIDRs: ['fd00:10::/64', 'fd00:11::/64'] }),
      /podCIDRs.*two IPv6 podCIDRs/,
    );
  });

  it('takes an IPv6 underlayIP (an IPv6-only node): RFC 5952, underlayIP6 the same address', () => {
    const table: Array<[Record<string, unknown>, { underlayIP: string }]> = [
      [{ underlayIP: 'FD00:0::2' }, { underlayIP: 'fd00::2' }],
      [{ underlayIP: 'fd00::2', underlayIP6: 'fd00:0:0::2' }, { underlayIP: 'fd00::2' }],
      [{ underlayIP: '2001:db8::1:0:0:1' }, { underlayIP: '2001:db8::1:0:0:1' }],
    ];
    for (const [fields, want] of table) {
      const rec = { name: 'n6', podCIDRs: ['fd00:10:0:6::/64'], ...fields };
      assert.deepEqual(parsePeerRecord(rec), {
        name: 'n6',
        underlayIP: want.underlayIP,
        underlayIP6: want.underlayIP,
        podCIDRs: ['fd00:10:0:6::/64'],
      });
    }
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [
        { underlayIP: 'fd00::2', underlayIP6: 'fd00::3' },
        /underlayIP6="fd00::3": differs from the IPv6 underlayIP fd00::2/,
      ],
      [{ underlayIP: 'fd00::2/64' }, /invalid underlayIP=.*\/length/],
      [{ underlayIP: '::ffff:10.0.0.2' }, /invalid underlayIP=/],
      [{ underlayIP: 'fe80::1%eth0' }, /invalid underlayIP=.*zone/],
      [{ underlayIP: '10.0.0.256' }, /invalid underlayIP=/],
      [{ underlayIP: 7 }, /invalid underlayIP=7: not a string/],
    ];
    for (const [fields, reason] of bad) {
      assert.throws(
        () => parsePeerRecord({ name: 'n6', podCIDRs: [], ...fields }),
        reason,
        JSON.stringify(fields),
      );
    }
  });
});
