import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatHostPort, formatIp, ipFamilyOf, parseIp } from './ip.js';

describe('parseIp / formatIp', () => {
  it('parses both families and formats them canonically (RFC 5952 for IPv6)', () => {
    const table: Array<{ text: string; family: 4 | 6; value: bigint; canonical: string }> = [
      { text: '0.0.0.0', family: 4, value: 0n, canonical: '0.0.0.0' },
      { text: '10.244.1.1', family: 4, value: 0x0af40101n, canonical: '10.244.1.1' },
      { text: '255.255.255.255', family: 4, value: 0xffffffffn, canonical: '255.255.255.255' },
      { text: ' 192.168.0.10 ', family: 4, value: 0xc0a8000an, canonical: '192.168.0.10' },
      { text: '::', family: 6, value: 0n, canonical: '::' },
      { text: '::1', family: 6, value: 1n, canonical: '::1' },
      { text: 'FD00::1', family: 6, value: (0xfd00n << 112n) | 1n, canonical: 'fd00::1' },
      { text: '2001:0db8::0001', family: 6, value: (0x20010db8n << 96n) | 1n, canonical: '2001:db8::1' },
      {
        text: '2001:db8:0:0:1:0:0:1', // two equal zero runs: the first is compressed
        family: 6,
        value: (0x20010db8n << 96n) | (1n << 48n) | 1n,
        canonical: '2001:db8::1:0:0:1',
      },
      {
        text: '2001:db8:0:1:1:1:1:1', // a single zero group is not compressed
        family: 6,
        value: 0x20010db8000000010001000100010001n,
        canonical: '2001:db8:0:1:1:1:1:1',
      },
      {
        text: '2001:db8:0:0:1:0:0:0', // the longer run wins
        family: 6,
        value: 0x20010db8000000000001000000000000n,
        canonical: '2001:db8:0:0:1::',
      },
      { text: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', family: 6, value: (1n << 128n) - 1n, canonical: '' },
    ];
    for (const row of table) {
      const ip = parseIp(row.text);
      assert.deepEqual(ip, { family: row.family, value: row.value }, row.text);
      assert.equal(formatIp(ip), row.canonical || row.text, row.text);
    }
  });

  it('refuses bad or ambiguous text with a CidrError naming it', () => {
    const table: Array<{ text: string; reason: RegExp }> = [
      { text: '', reason: /not an IPv4 address/ },
      { text: '1.2.3', reason: /not an IPv4 address/ },
      { text: '1.2.3.256', reason: /not an IPv4 address/ },
      { text: '010.0.0.1', reason: /leading zero/ },
      { text: '1.2.3.4/32', reason: /no \/length/ },
      { text: 'fd00:::1', reason: /not an IPv6 address/ },
      { text: '1:2:3:4:5:6:7:8:9', reason: /not an IPv6 address/ },
      { text: '00000::1', reason: /not an IPv6 address/ },
      { text: 'fe80::1%eth0', reason: /zone ids/ },
      { text: '::ffff:1.2.3.4', reason: /IPv4-mapped/ },
      { text: '::1.2.3.4', reason: /IPv4-mapped or -compatible/ },
      { text: '::ffff:0102:0304', reason: /IPv4-mapped IPv6 address; write the IPv4 address 1\.2\.3\.4/ },
      { text: 'banana', reason: /not an IPv4 address/ },
    ];
    for (const row of table) {
      // the message names the text first, then the reason
      const named = new RegExp(
        `${JSON.stringify(row.text).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*${row.reason.source}`,
      );
      assert.throws(() => parseIp(row.text), { name: 'CidrError', code: 'ECIDR', message: named }, row.text);
    }
  });
});

describe('ipFamilyOf', () => {
  it('tells the family of an address or prefix text, or undefined', () => {
    const table: Array<[string, 4 | 6 | undefined]> = [
      ['10.0.0.1', 4],
      ['10.244.0.0/16', 4],
      ['10.244.1.0/16', 4], // host bits do not change the family
      ['fd00::/48', 6],
      ['::', 6],
      ['::/0', 6],
      ['10.0.0.0/33', undefined],
      ['fd00::/129', undefined],
      ['::ffff:1.2.3.4', undefined],
      ['fe80::1%eth0', undefined],
      ['10.0.0.0/8/9', undefined],
      ['10.0.0.0/x', undefined],
      ['garbage', undefined],
    ];
    for (const [text, family] of table) assert.equal(ipFamilyOf(text), family, text);
  });
});

describe('formatHostPort', () => {
  const table: Array<[string, number, string]> = [
    ['10.0.0.1', 8473, '10.0.0.1:8473'],
    ['fd00::1', 8473, '[fd00::1]:8473'],
    ['2001:db8::1:0:0:1', 1, '[2001:db8::1:0:0:1]:1'],
    ['::', 65535, '[::]:65535'],
    ['0.0.0.0', 8473, '0.0.0.0:8473'],
    ['node-a.example', 80, 'node-a.example:80'],
  ];
  for (const [host, port, want] of table) {
    it(`${host} ${port} → ${want}`, () => assert.equal(formatHostPort(host, port), want));
  }
  it('gives a URL that parses back to the same host and port', () => {
    const url = new URL(`ws://${formatHostPort('fd00::1', 8473)}/`);
    assert.equal(url.hostname, '[fd00::1]');
    assert.equal(url.port, '8473');
  });
});
