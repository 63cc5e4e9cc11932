import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newIncarnation, parseRecord, quantizeRtt, RecordError, stickyRtt } from './record.js';
import { sampleRecord } from './test-fixtures.js';

describe('parseRecord', () => {
  it('accepts a valid record and a tombstone', () => {
    const r = sampleRecord({ reachability: { 'node-b': 0.5, 'node-c': null } });
    assert.deepEqual(parseRecord(JSON.parse(JSON.stringify(r))), r);
    const t = sampleRecord({ leaving: { until: 123 } });
    assert.deepEqual(parseRecord(t), t);
  });

  const table: Array<[string, Record<string, unknown>, string]> = [
    ['name with capitals', { name: 'Node-A' }, 'name'],
    ['name too long', { name: 'a'.repeat(254) }, 'name'],
    ['incarnation format', { incarnation: 'abc' }, 'incarnation'],
    ['negative version', { version: -1 }, 'version'],
    ['fractional version', { version: 1.5 }, 'version'],
    ['content ahead of version', { version: 1, contentVersion: 2 }, 'contentVersion'],
    ['underlay not IPv4', { underlayIP: '10.0.0' }, 'underlayIP'],
    ['underlay is a CIDR', { underlayIP: '10.0.0.1/24' }, 'underlayIP'],
    ['port zero', { gossipPort: 0 }, 'gossipPort'],
    ['pod CIDR with host bits', { podCIDRs: ['10.244.1.1/24'] }, 'podCIDRs[0]'],
    ['pod CIDR not a string', { podCIDRs: [7] }, 'podCIDRs[0]'],
    ['too many pod CIDRs', { podCIDRs: Array(9).fill('10.0.0.0/24') }, 'podCIDRs'],
    ['unknown backend', { backend: 'ipip' }, 'backend'],
    ['MTU too small', { mtu: 10 }, 'mtu'],
    ['ready as string', { ready: 'yes' }, 'ready'],
    ['agent version too long', { agentVersion: 'v'.repeat(65) }, 'agentVersion'],
    ['reachability as list', { reachability: [] }, 'reachability'],
    ['reachability bad peer', { reachability: { 'BAD PEER': 1 } }, 'reachability'],
    ['reachability bad RTT', { reachability: { 'node-b': -3 } }, 'reachability.node-b'],
    ['leaving without until', { leaving: {} }, 'leaving.until'],
    ['WireGuard key too short', { wgPublicKey: 'bm90IGEga2V5' }, 'wgPublicKey'],
    ['WireGuard key not a string', { wgPublicKey: 42 }, 'wgPublicKey'],
  ];
  for (const [what, over, field] of table) {
    it(`rejects ${what}, naming ${field}`, () => {
      assert.throws(
        () => parseRecord({ ...sampleRecord(), ...over }),
        (err: unknown) => err instanceof RecordError && err.field === field,
      );
    });
  }
  it('carries IPv6 podCIDRs and underlayIP6 (RFC 5952), and stays as it was without them', () => {
    const dual = sampleRecord({
      underlayIP6: '2001:db8::1',
      podCIDRs: ['10.244.1.0/24', 'fd00:10:0:1::/64'],
    });
    assert.deepEqual(parseRecord(JSON.parse(JSON.stringify(dual))), dual);
    // the longest texts fit: 39 characters of address, 43 of CIDR
    const long = 'fd00:1234:5678:9abc:def0:1234:5678:9abc';
    const longest = sampleRecord({ underlayIP6: long, podCIDRs: ['10.244.1.0/24', `${long}/128`] });
    assert.deepEqual(parseRecord(longest), longest);
    assert.deepEqual(
      parseRecord(sampleRecord({ underlayIP6: '2001:DB8:0::1', podCIDRs: ['FD00:10:0:1:0::/64'] })),
      sampleRecord({ underlayIP6: '2001:db8::1', podCIDRs: ['fd00:10:0:1::/64'] }),
    );
    const v4 = parseRecord(JSON.parse(JSON.stringify(sampleRecord())));
    assert.equal('underlayIP6' in v4, false, 'no underlayIP6 key on an IPv4-only record');
    assert.equal(JSON.stringify(v4), JSON.stringify(parseRecord(v4)));
  });

  it('drops fields it does not know (what agents before dual-stack do with underlayIP6)', () => {
    const r = parseRecord({ ...sampleRecord(), futureField: { x: 1 } });
    assert.deepEqual(r, sampleRecord());
  });

  const table6: Array<[string, Record<string, unknown>, string]> = [
    ['underlayIP6 IPv4', { underlayIP6: '10.0.0.1' }, 'underlayIP6'],
    ['underlayIP6 a CIDR', { underlayIP6: 'fd00::1/64' }, 'underlayIP6'],
    ['underlayIP6 with a zone', { underlayIP6: 'fe80::1%eth0' }, 'underlayIP6'],
    ['underlayIP6 IPv4-mapped', { underlayIP6: '::ffff:10.0.0.1' }, 'underlayIP6'],
    ['underlayIP6 too long', { underlayIP6: `${'0'.repeat(40)}::1` }, 'underlayIP6'],
    ['underlayIP6 not a string', { underlayIP6: 6 }, 'underlayIP6'],
    ['IPv6 pod CIDR with host bits', { podCIDRs: ['10.244.1.0/24', 'fd00::1/64'] }, 'podCIDRs[1]'],
    ['IPv6 pod CIDR too long', { podCIDRs: [`fd00${':0'.repeat(40)}/64`] }, 'podCIDRs[0]'],
    ['IPv6 pod CIDR length out of range', { podCIDRs: ['fd00::/129'] }, 'podCIDRs[0]'],
    ['IPv4-mapped pod CIDR', { podCIDRs: ['::ffff:10.244.0.0/120'] }, 'podCIDRs[0]'],
    ['underlayIP IPv6 with a zone', { underlayIP: 'fe80::1%eth0' }, 'underlayIP'],
    ['underlayIP IPv6 a CIDR', { underlayIP: 'fd00::1/64' }, 'underlayIP'],
    ['underlayIP IPv4-mapped', { underlayIP: '::ffff:10.0.0.1' }, 'underlayIP'],
    ['underlayIP IPv6 too long', { underlayIP: `${'0'.repeat(40)}::1` }, 'underlayIP'],
    ['underlayIP not a string', { underlayIP: 4 }, 'underlayIP'],
    ['underlayIP6 not the IPv6 underlayIP', { underlayIP: 'fd00::1', underlayIP6: 'fd00::2' }, 'underlayIP6'],
  ];
  for (const [what, over, field] of table6) {
    it(`rejects ${what}, naming ${field}`, () => {
      assert.throws(
        () => parseRecord({ ...sampleRecord(), ...over }),
        (err: unknown) => err instanceof RecordError && err.field === field,
      );
    });
  }

  it('carries an IPv6 underlayIP (an IPv6-only node, ADR 19): RFC 5952, underlayIP6 the same', () => {
    const table: Array<[Record<string, unknown>, string]> = [
      [{ underlayIP: 'fd00::1' }, 'fd00::1'],
      [{ underlayIP: 'FD00:0:0::1', underlayIP6: 'fd00::1' }, 'fd00::1'],
      [{ underlayIP: 'fd00:1234:5678:9abc:def0:1234:5678:9abc' }, 'fd00:1234:5678:9abc:def0:1234:5678:9abc'],
    ];
    for (const [over, want] of table) {
      const r = parseRecord({ ...sampleRecord({ podCIDRs: ['fd00:10:0:1::/64'] }), ...over });
      assert.equal(r.underlayIP, want, JSON.stringify(over));
      assert.equal(r.underlayIP6, want, JSON.stringify(over));
      assert.deepEqual(parseRecord(JSON.parse(JSON.stringify(r))), r, 'stable through the wire');
    }
  });

  it('rejects non-objects', () => {
    for (const v of [null, 3, 'x', []]) assert.throws(() => parseRecord(v), RecordError);
  });
});

describe('incarnations', () => {
  it('sort by boot time, and can be moved past another one', () => {
    const early = newIncarnation(1_000, undefined, Buffer.from('ffffffff', 'hex'));
    const late = newIncarnation(2_000, undefined, Buffer.from('00000000', 'hex'));
    assert.ok(early < late);
    assert.match(late, /^[0-9a-z]{9}-[0-9a-f]{8}$/);
    const after = newIncarnation(1_500, late, Buffer.from('00000001', 'hex'));
    assert.ok(after > late, 'a clock that went back still yields a later incarnation');
  });
});

describe('quantizeRtt', () => {
  const table: Array<[number | null, number | null]> = [
    [null, null],
    [-1, null],
    [0.03, 0.1],
    [0.15, 0.2],
    [0.34, 0.5],
    [0.7, 1],
    [1.9, 2],
    [3, 5],
    [42, 50],
    [10_000_000, 600_000],
  ];
  for (const [input, want] of table) it(`${input} → ${want}`, () => assert.equal(quantizeRtt(input), want));
});

describe('stickyRtt', () => {
  const table: Array<[number | null | undefined, number | null, number | null]> = [
    [undefined, 2, 2],
    [null, 2, 2],
    [2, null, null],
    [0.1, 1, 0.1],
    [1, 2, 1],
    [2, 5, 2],
    [5, 2, 5],
    [1, 5, 5],
    [50, 10, 10],
  ];
  for (const [published, next, want] of table) {
    it(`${published} then ${next} → ${want}`, () => assert.equal(stickyRtt(published, next), want));
  }
});
