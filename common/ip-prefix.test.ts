import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CidrError, parseCidr } from './cidr.js';
import { formatIp, parseIp } from './ip.js';
import {
  formatIpPrefix,
  nthAddressOf,
  nthSubprefix,
  parseIpPrefix,
  prefixContains,
  prefixContainsPrefix,
  prefixesOverlap,
  prefixFromIpv4Cidr,
  prefixSize,
  subprefixCount,
  subprefixIndexOf,
} from './ip-prefix.js';

const p = (text: string) => parseIpPrefix(text);

describe('parseIpPrefix', () => {
  it('parses both families, strictly by default, and formats canonically', () => {
    const table: Array<{ text: string; strict?: boolean; family: 4 | 6; canonical: string; size: bigint }> = [
      { text: '10.244.0.0/16', family: 4, canonical: '10.244.0.0/16', size: 65536n },
      { text: '0.0.0.0/0', family: 4, canonical: '0.0.0.0/0', size: 1n << 32n },
      { text: '10.1.2.3/32', family: 4, canonical: '10.1.2.3/32', size: 1n },
      { text: '10.244.1.5/16', strict: false, family: 4, canonical: '10.244.0.0/16', size: 65536n },
      { text: 'FD00:10::/48', family: 6, canonical: 'fd00:10::/48', size: 1n << 80n },
      { text: '::/0', family: 6, canonical: '::/0', size: 1n << 128n },
      { text: '::1/128', family: 6, canonical: '::1/128', size: 1n },
      { text: '2001:0db8:0000::/32', family: 6, canonical: '2001:db8::/32', size: 1n << 96n },
      { text: 'fd00::1/64', strict: false, family: 6, canonical: 'fd00::/64', size: 1n << 64n },
      { text: 'fd00::/064', strict: false, family: 6, canonical: 'fd00::/64', size: 1n << 64n },
      { text: ' fd00::/64 ', family: 6, canonical: 'fd00::/64', size: 1n << 64n },
    ];
    for (const row of table) {
      const prefix = parseIpPrefix(row.text, row.strict === undefined ? {} : { strict: row.strict });
      assert.equal(prefix.family, row.family, row.text);
      assert.equal(formatIpPrefix(prefix), row.canonical, row.text);
      assert.equal(prefixSize(prefix), row.size, row.text);
    }
  });

  it('refuses bad prefixes with a CidrError naming the text', () => {
    const table: Array<{ text: string; reason: RegExp }> = [
      { text: '10.0.0.0', reason: /address\/length/ },
      { text: 'fd00::', reason: /address\/length/ },
      { text: '10.0.0.0/8/9', reason: /address\/length/ },
      { text: '10.0.0.0/', reason: /prefix length/ },
      { text: '10.0.0.0/-1', reason: /prefix length/ },
      { text: '10.0.0.0/08', reason: /prefix length/ },
      { text: 'fd00::/064', reason: /prefix length/ },
      { text: '10.0.0.0/33', reason: /out of range for IPv4/ },
      { text: 'fd00::/129', reason: /out of range for IPv6/ },
      { text: '10.244.1.0/16', reason: /host bits set.*network is 10\.244\.0\.0\/16/ },
      { text: 'fd00::1/64', reason: /host bits set.*network is fd00::\/64/ },
      { text: '010.244.0.0/16', reason: /leading zero/ },
      { text: 'fe80::%eth0/64', reason: /zone ids/ },
      { text: '::ffff:10.0.0.0/104', reason: /IPv4-mapped/ },
      { text: '::ffff:a00:0/104', reason: /IPv4-mapped IPv6 address; write the IPv4 address 10\.0\.0\.0/ },
      { text: 'banana/8', reason: /not an IPv4 address/ },
    ];
    for (const row of table) {
      assert.throws(
        () => parseIpPrefix(row.text),
        (err: unknown) =>
          err instanceof CidrError &&
          row.reason.test(err.message) &&
          err.message.includes(JSON.stringify(row.text)),
        row.text,
      );
    }
  });

  it('agrees with common/cidr.ts on IPv4', () => {
    for (const text of ['10.244.0.0/16', '0.0.0.0/0', '192.168.7.128/25', '255.255.255.255/32']) {
      assert.deepEqual(prefixFromIpv4Cidr(parseCidr(text)), p(text), text);
    }
  });
});

describe('containment and overlap', () => {
  it('answers per family and never across families', () => {
    const table: Array<{ outer: string; inner: string; contains: boolean; overlap: boolean }> = [
      { outer: '10.244.0.0/16', inner: '10.244.3.0/24', contains: true, overlap: true },
      { outer: '10.244.3.0/24', inner: '10.244.0.0/16', contains: false, overlap: true },
      { outer: '10.244.3.0/24', inner: '10.244.4.0/24', contains: false, overlap: false },
      { outer: '0.0.0.0/0', inner: '10.1.2.3/32', contains: true, overlap: true },
      { outer: 'fd00::/48', inner: 'fd00:0:0:ff::/64', contains: true, overlap: true },
      { outer: 'fd00::/48', inner: 'fd00:1::/64', contains: false, overlap: false },
      { outer: '::/0', inner: 'fd00::1/128', contains: true, overlap: true },
      { outer: 'fd00::/64', inner: 'fd00::/64', contains: true, overlap: true },
      // 0.0.0.0/0 and ::/0 share the integer 0 but not the family
      { outer: '::/0', inner: '10.0.0.0/8', contains: false, overlap: false },
      { outer: '0.0.0.0/0', inner: '::/0', contains: false, overlap: false },
    ];
    for (const row of table) {
      const label = `${row.outer} ⊇ ${row.inner}`;
      assert.equal(prefixContainsPrefix(p(row.outer), p(row.inner)), row.contains, label);
      assert.equal(prefixesOverlap(p(row.outer), p(row.inner)), row.overlap, label);
    }
  });

  it('tells whether an address is inside', () => {
    const table: Array<[string, string, boolean]> = [
      ['10.244.0.0/16', '10.244.255.1', true],
      ['10.244.0.0/16', '10.245.0.1', false],
      ['fd00::/48', 'fd00::ffff', true],
      ['fd00::/48', 'fd00:0:1::1', false],
      ['::/0', '10.0.0.1', false],
      ['0.0.0.0/0', '::', false],
    ];
    for (const [prefix, ip, inside] of table) assert.equal(prefixContains(p(prefix), parseIp(ip)), inside);
  });
});

describe('indexing', () => {
  it('finds the n-th address', () => {
    const table: Array<[string, bigint, string]> = [
      ['10.244.3.0/24', 0n, '10.244.3.0'],
      ['10.244.3.0/24', 1n, '10.244.3.1'],
      ['10.244.3.0/24', 255n, '10.244.3.255'],
      ['fd00:0:0:7::/64', 1n, 'fd00:0:0:7::1'],
      ['fd00:0:0:7::/64', (1n << 64n) - 1n, 'fd00::7:ffff:ffff:ffff:ffff'],
      ['::/0', (1n << 128n) - 1n, 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
    ];
    for (const [prefix, n, ip] of table) assert.equal(formatIp(nthAddressOf(p(prefix), n)), ip);
    assert.throws(() => nthAddressOf(p('10.244.3.0/24'), 256n), /index 256 outside 10\.244\.3\.0\/24/);
    assert.throws(() => nthAddressOf(p('fd00::/64'), 1n << 64n), /outside fd00::\/64/);
    assert.throws(() => nthAddressOf(p('fd00::/64'), -1n), CidrError);
  });

  it('splits into subnets with big indices (a /48 into /64s, ::/0 into /64s)', () => {
    const table: Array<{ outer: string; length: number; i: bigint; subnet: string; count: bigint }> = [
      { outer: '10.244.0.0/16', length: 24, i: 7n, subnet: '10.244.7.0/24', count: 256n },
      { outer: '10.244.0.0/16', length: 16, i: 0n, subnet: '10.244.0.0/16', count: 1n },
      { outer: '0.0.0.0/0', length: 32, i: (1n << 32n) - 1n, subnet: '255.255.255.255/32', count: 1n << 32n },
      { outer: 'fd00:10::/48', length: 64, i: 0n, subnet: 'fd00:10::/64', count: 65536n },
      { outer: 'fd00:10::/48', length: 64, i: 65535n, subnet: 'fd00:10:0:ffff::/64', count: 65536n },
      { outer: 'fd00::/56', length: 64, i: 255n, subnet: 'fd00:0:0:ff::/64', count: 256n },
      {
        outer: '::/0',
        length: 64,
        i: (1n << 64n) - 1n,
        subnet: 'ffff:ffff:ffff:ffff::/64',
        count: 1n << 64n,
      },
      { outer: 'fd00::/120', length: 128, i: 255n, subnet: 'fd00::ff/128', count: 256n },
    ];
    for (const row of table) {
      const outer = p(row.outer);
      const subnet = nthSubprefix(outer, row.length, row.i);
      assert.equal(formatIpPrefix(subnet), row.subnet, `${row.outer} #${row.i}`);
      assert.equal(subprefixCount(outer, row.length), row.count);
      assert.equal(subprefixIndexOf(outer, row.length, subnet), row.i);
    }
  });

  it('refuses impossible splits and indices', () => {
    assert.throws(() => nthSubprefix(p('fd00::/48'), 64, 65536n), /subnet index 65536 outside fd00::\/48/);
    assert.throws(() => nthSubprefix(p('fd00::/48'), 47, 0n), /cannot split fd00::\/48 into \/47/);
    assert.throws(() => subprefixCount(p('10.0.0.0/8'), 33), /cannot split/);
    assert.throws(() => subprefixIndexOf(p('fd00::/48'), 64, p('fd01::/64')), /not inside/);
    assert.throws(() => subprefixIndexOf(p('10.0.0.0/8'), 24, p('fd00::/64')), /not inside/);
  });
});
