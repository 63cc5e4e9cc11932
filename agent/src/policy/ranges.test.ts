import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ipBlockCidrs } from './peers.js';
import { cidrRange, rangesToElements } from './ranges.js';

describe('ipBlock with except', () => {
  const cases: Array<[string, string, string[], string[]]> = [
    ['no except', '10.0.0.0/8', [], ['10.0.0.0/8']],
    ['one hole', '10.0.0.0/24', ['10.0.0.128/25'], ['10.0.0.0/25']],
    ['hole in the middle', '10.0.0.0/30', ['10.0.0.1/32'], ['10.0.0.0/32', '10.0.0.2/31']],
    ['hole covering all', '10.0.0.0/24', ['10.0.0.0/16'], []],
    ['hole outside', '10.0.0.0/24', ['192.168.0.0/16'], ['10.0.0.0/24']],
    ['two holes', '0.0.0.0/0', ['10.0.0.0/8', '192.168.0.0/16'], []],
    ['host bits in cidr are cleared', '10.0.0.5/24', [], ['10.0.0.0/24']],
    ['IPv6 block matches nothing here', 'fd00::/8', [], []],
  ];
  for (const [name, cidr, except, want] of cases) {
    it(name, () => {
      const got = ipBlockCidrs({ cidr, except });
      if (name === 'two holes') {
        // everything but 10/8 and 192.168/16: check the holes and two neighbours
        assert.ok(got.includes('11.0.0.0/8') && got.includes('0.0.0.0/5'));
        assert.ok(!got.some((c) => c.startsWith('10.') || c.startsWith('192.168.')));
        return;
      }
      assert.deepEqual(got, want);
    });
  }
  it('rejects a malformed CIDR', () =>
    assert.throws(() => ipBlockCidrs({ cidr: '10.0.0.0/33', except: [] })));
});

/** CIDRs and bare addresses → interval-set elements. */
const canonicalElements = (cidrs: string[]) =>
  rangesToElements(cidrs.map((c) => cidrRange(c.includes('/') ? c : `${c}/32`)));

describe('rangesToElements', () => {
  it('merges overlaps and adjacent blocks into the fewest CIDRs, sorted as nft lists them', () => {
    assert.deepEqual(canonicalElements(['10.0.0.5', '10.0.0.0/24', '10.0.1.0/24', '10.9.9.9']), [
      '10.0.0.0/23',
      '10.9.9.9/32',
    ]);
    assert.deepEqual(canonicalElements(['10.244.2.7', '10.244.2.6']), ['10.244.2.6/31']);
    assert.deepEqual(canonicalElements([]), []);
  });
});

describe('ipBlock with except, IPv6', () => {
  const cases: Array<[string, string, string[], string[]]> = [
    ['no except', 'fd00::/8', [], ['fd00::/8']],
    ['one hole', 'fd00::/64', ['fd00::8000:0:0:0/65'], ['fd00::/65']],
    ['hole in the middle', 'fd00::/126', ['fd00::1/128'], ['fd00::/128', 'fd00::2/127']],
    ['hole covering all', 'fd00:1::/32', ['fd00::/16'], []],
    ['host bits in cidr are cleared, text canonical', 'FD00:0:0:0::5/64', [], ['fd00::/64']],
    ['an IPv4 except cannot punch an IPv6 block', 'fd00::/64', ['10.0.0.0/8'], ['fd00::/64']],
    ['an IPv4 block matches nothing in the IPv6 set', '10.0.0.0/8', [], []],
    ['::/0 minus ::/1 is the upper half', '::/0', ['::/1'], ['8000::/1']],
  ];
  for (const [name, cidr, except, want] of cases) {
    it(name, () => assert.deepEqual(ipBlockCidrs({ cidr, except }, 6), want));
  }
  it('an IPv6 block matches nothing in the IPv4 set', () =>
    assert.deepEqual(ipBlockCidrs({ cidr: '::/0', except: [] }, 4), []));
  it('rejects a malformed or IPv4-mapped CIDR', () => {
    assert.throws(() => ipBlockCidrs({ cidr: 'fd00::/129', except: [] }, 6));
    assert.throws(() => ipBlockCidrs({ cidr: '::ffff:10.0.0.0/104', except: [] }, 6));
  });
});
