import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWgDump } from './dump.js';
import { WireguardError } from './errors.js';

const PRIV = 'YFfT0TDEZGoBGUMlkOkcRV2mk0eANm1JbCKSWp+ql2I=';
const PUB = 'HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=';
const P1 = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
const P2 = 'TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=';
const row = (...f: string[]) => f.join('\t');

describe('parseWgDump (wg show <dev> dump)', () => {
  it('reads the device and its peers, and drops the private key', () => {
    const text = [
      row(PRIV, PUB, '51820', 'off'),
      row(P1, '(none)', '192.168.71.2:51820', '10.244.2.0/24', '1700000000', '1234', '5678', 'off'),
      row(P2, '(none)', '(none)', '10.244.4.0/24,10.244.3.0/24', '0', '0', '0', '25'),
      '',
    ].join('\n');
    const d = parseWgDump(text);
    assert.deepEqual(d, {
      publicKey: PUB,
      listenPort: 51820,
      peers: [
        {
          publicKey: P1,
          endpoint: '192.168.71.2:51820',
          allowedIPs: ['10.244.2.0/24'],
          persistentKeepalive: undefined,
          latestHandshake: 1700000000,
          rxBytes: 1234,
          txBytes: 5678,
        },
        {
          publicKey: P2,
          endpoint: undefined,
          allowedIPs: ['10.244.3.0/24', '10.244.4.0/24'],
          persistentKeepalive: 25,
          latestHandshake: 0,
          rxBytes: 0,
          txBytes: 0,
        },
      ],
    });
    assert.ok(!JSON.stringify(d).includes(PRIV));
  });

  it('reads a fresh device: no key, no port, no peers; IPv6 endpoints and allowed IPs', () => {
    assert.deepEqual(parseWgDump(row('(none)', '(none)', '0', 'off')), {
      publicKey: undefined,
      listenPort: 0,
      peers: [],
    });
    const d = parseWgDump(
      [
        row(PRIV, PUB, '0', '0x57'),
        row(P1, '(none)', '[fd00::2]:51820', '(none)', '0', '0', '0', 'off'),
      ].join('\n'),
    );
    assert.equal(d.peers[0]?.endpoint, '[fd00::2]:51820');
    assert.deepEqual(d.peers[0]?.allowedIPs, []);
    assert.deepEqual(
      parseWgDump(
        [row(PRIV, PUB, '1', 'off'), row(P1, '(none)', '(none)', 'FD00::/64', '0', '0', '0', 'off')].join(
          '\n',
        ),
      ).peers[0]?.allowedIPs,
      ['fd00::/64'],
    );
  });

  const bad: [string, string][] = [
    ['empty', ''],
    ['short interface line', row(PRIV, PUB, '51820')],
    ['bad public key', row(PRIV, 'nope', '51820', 'off')],
    ['bad port', row(PRIV, PUB, 'x', 'off')],
    ['short peer line', [row(PRIV, PUB, '1', 'off'), row(P1, '(none)', '(none)')].join('\n')],
    [
      'bad peer key',
      [row(PRIV, PUB, '1', 'off'), row('k', '(none)', '(none)', '(none)', '0', '0', '0', 'off')].join('\n'),
    ],
    [
      'bad allowed IP',
      [row(PRIV, PUB, '1', 'off'), row(P1, '(none)', '(none)', '10.0.0.300/8', '0', '0', '0', 'off')].join(
        '\n',
      ),
    ],
    [
      'bad counter',
      [row(PRIV, PUB, '1', 'off'), row(P1, '(none)', '(none)', '(none)', '-1', '0', '0', 'off')].join('\n'),
    ],
  ];
  for (const [name, text] of bad) {
    it(`rejects ${name}`, () => {
      assert.throws(
        () => parseWgDump(text),
        (e: unknown) => e instanceof WireguardError && e.code === 'EWGDUMP' && !e.message.includes(PRIV),
      );
    });
  }
});
