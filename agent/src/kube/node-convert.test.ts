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
    ['dual stack', node({ podCIDRs: ['10.244.3.0/24', 'fd00:10::/64'] }, internal), ['10.244.3.0/24']],
    ['unassigned', node({}, internal), []],
    ['no spec', { metadata: { name: 'n1' }, status: { addresses: internal } }, []],
  ];
  for (const [title, input, podCIDRs] of good) {
    it(`converts a node with ${title}`, () => {
      assert.deepEqual(parseKubeNode(input), { name: 'n1', underlayIP: '192.168.1.10', podCIDRs });
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

describe('parsePeerRecord', () => {
  it('accepts a valid record and rejects bad fields', () => {
    const rec = { name: 'n2', underlayIP: '10.0.0.2', podCIDRs: ['10.244.2.0/24'] };
    assert.deepEqual(parsePeerRecord(rec), rec);
    assert.throws(() => parsePeerRecord({ ...rec, underlayIP: 'x' }), /underlayIP/);
    assert.throws(() => parsePeerRecord({ ...rec, podCIDRs: '10.244.2.0/24' }), /podCIDRs/);
    assert.throws(() => parsePeerRecord({ ...rec, podCIDRs: ['10.244.2.7/24'] }), /podCIDRs/);
    assert.throws(() => parsePeerRecord(null), /name/);
  });
});
