import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeAddResult, computeWiring } from './cmd-add.js';
import { computeCheckProblems } from './cmd-check.js';
import { CniError } from './errors.js';
import { computeRanges } from './ipam-range.js';
import { formatResult, parsePrevResult } from './result.js';

const attachment = { containerId: 'c1', ifname: 'eth0', netns: '/var/run/netns/p' };
const { ranges } = computeRanges(['10.244.1.0/24']);
const wiring = computeWiring(
  attachment,
  { containerId: 'c1', ifname: 'eth0', ips: ['10.244.1.7'] },
  ranges,
  'weft0',
  1450,
);

describe('versioned results', () => {
  const result = computeAddResult(wiring, undefined);
  it('computes the wiring and the 1.1 result', () => {
    assert.equal(wiring.podMac, '0a:58:0a:f4:01:07');
    assert.match(wiring.hostVeth, /^weft[0-9a-f]{8}$/);
    assert.deepEqual(result.ips, [{ address: '10.244.1.7/24', gateway: '10.244.1.1', interface: 1 }]);
    assert.deepEqual(result.routes, [{ dst: '0.0.0.0/0', gw: '10.244.1.1' }]);
  });
  it('0.3.1 and 0.4.0 carry ip versions and no interface mtu', () => {
    for (const v of ['0.3.1', '0.4.0'] as const) {
      const out = formatResult(result, v) as {
        ips: Array<{ version?: string }>;
        interfaces: Array<{ mtu?: number }>;
      };
      assert.equal(out.ips[0]?.version, '4');
      assert.equal(out.interfaces[1]?.mtu, undefined);
    }
  });
  it('1.0.0 drops ip versions; 1.1.0 adds interface mtu', () => {
    const v1 = formatResult(result, '1.0.0') as {
      ips: Array<{ version?: string }>;
      interfaces: Array<{ mtu?: number }>;
    };
    assert.equal(v1.ips[0]?.version, undefined);
    assert.equal(v1.interfaces[1]?.mtu, undefined);
    const v11 = formatResult(result, '1.1.0') as { cniVersion: string; interfaces: Array<{ mtu?: number }> };
    assert.equal(v11.interfaces[1]?.mtu, 1450);
    assert.equal(v11.cniVersion, '1.1.0');
  });
  it('appends to a prevResult with shifted interface indexes', () => {
    const prev = parsePrevResult({
      cniVersion: '0.4.0',
      interfaces: [{ name: 'x0' }],
      ips: [{ version: '4', address: '192.168.0.2/24', interface: 0 }],
    });
    const chained = computeAddResult(wiring, prev);
    assert.equal(chained.interfaces.length, 3);
    assert.equal(chained.ips[1]?.interface, 2);
  });
  it('prevResult errors name the field', () => {
    assert.throws(
      () => parsePrevResult({ ips: [{ address: 5 }] }),
      (e: unknown) => e instanceof CniError && e.cniCode === 7 && /ips\[0\]\.address/.test(e.details),
    );
  });
});

describe('computeCheckProblems', () => {
  const prev = computeAddResult(wiring, undefined);
  const allocation = { containerId: 'c1', ifname: 'eth0', ips: ['10.244.1.7'] };
  const good = { exists: true, up: true, addresses: ['10.244.1.7/24'], defaultGateways: ['10.244.1.1'] };
  const host = { master: 'weft0', up: true };
  it('finds nothing wrong with a good attachment', () => {
    assert.deepEqual(computeCheckProblems(attachment, prev, allocation, good, host, 'weft0'), []);
  });
  it('names each problem', () => {
    const problems = computeCheckProblems(
      attachment,
      prev,
      undefined,
      { ...good, addresses: [], defaultGateways: [] },
      { master: undefined, up: true },
      'weft0',
    );
    assert.deepEqual(problems, [
      'no address is allocated to c1 eth0',
      'address 10.244.1.7/24 missing on eth0 (has none)',
      'default route via 10.244.1.1 missing in /var/run/netns/p',
      `host interface ${wiring.hostVeth} is not attached to weft0`,
    ]);
  });
});
