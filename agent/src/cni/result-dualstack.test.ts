import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../../common/log.js';
import { computeAddResult, computeWiring } from './cmd-add.js';
import { computeCheckProblems } from './cmd-check.js';
import { type CniContext, requireLocalNetwork } from './context.js';
import { CniError } from './errors.js';
import { computeRanges } from './ipam-range.js';
import { formatResult } from './result.js';
import { planPodBatch } from './veth-plumbing.js';

const attachment = { containerId: 'c1', ifname: 'eth0', netns: '/var/run/netns/p' };
const podCIDRs = ['10.244.1.0/24', 'fd00:10:244:1::/64'];
const { ranges } = computeRanges(podCIDRs);
const allocation = { containerId: 'c1', ifname: 'eth0', ips: ['10.244.1.7', 'fd00:10:244:1::7'] };
const wiring = computeWiring(attachment, allocation, ranges, 'weft0', 1450);

describe('dual-stack ADD result', () => {
  it('both addresses on the pod interface, each with its family gateway; one default route per family', () => {
    const out = formatResult(computeAddResult(wiring, undefined), '1.1.0');
    assert.deepEqual(JSON.parse(JSON.stringify(out)), {
      cniVersion: '1.1.0',
      interfaces: [
        { name: wiring.hostVeth, mac: wiring.hostMac },
        { name: 'eth0', mac: '0a:58:0a:f4:01:07', mtu: 1450, sandbox: '/var/run/netns/p' },
      ],
      ips: [
        { address: '10.244.1.7/24', gateway: '10.244.1.1', interface: 1 },
        { address: 'fd00:10:244:1::7/64', gateway: 'fd00:10:244:1::1', interface: 1 },
      ],
      routes: [
        { dst: '0.0.0.0/0', gw: '10.244.1.1' },
        { dst: '::/0', gw: 'fd00:10:244:1::1' },
      ],
      dns: {},
    });
    const legacy = formatResult(computeAddResult(wiring, undefined), '0.4.0') as {
      ips: Array<{ version: string }>;
    };
    assert.deepEqual(
      legacy.ips.map((ip) => ip.version),
      ['4', '6'],
    );
  });

  it('pairs addresses with ranges by family, whatever the order in the state file', () => {
    const swapped = computeWiring(
      attachment,
      { ...allocation, ips: [...allocation.ips].reverse() },
      ranges,
      'weft0',
      1450,
    );
    assert.deepEqual(swapped, wiring);
  });

  it('the pod batch adds the IPv6 address nodad and its default route; IPv4-only is as before', () => {
    assert.deepEqual(planPodBatch(wiring, '/proc/1/ns/net').slice(1), [
      'addr add 10.244.1.7/24 dev eth0',
      'addr add fd00:10:244:1::7/64 dev eth0 nodad',
      'link set eth0 up',
      'link set lo up',
      'route add default via 10.244.1.1 dev eth0',
      'route add default via fd00:10:244:1::1 dev eth0',
    ]);
    const v4 = computeWiring(
      attachment,
      { ...allocation, ips: ['10.244.1.7'] },
      computeRanges(['10.244.1.0/24']).ranges,
      'weft0',
      1450,
    );
    assert.deepEqual(planPodBatch(v4, '/proc/1/ns/net').slice(1), [
      'addr add 10.244.1.7/24 dev eth0',
      'link set eth0 up',
      'link set lo up',
      'route add default via 10.244.1.1 dev eth0',
    ]);
  });
});

describe('dual-stack CHECK', () => {
  const prev = computeAddResult(wiring, undefined);
  const host = { master: 'weft0', up: true };
  const good = {
    exists: true,
    up: true,
    addresses: ['10.244.1.7/24', 'fd00:10:244:1::7/64'],
    defaultGateways: ['10.244.1.1', 'fd00:10:244:1::1'],
  };
  const check = (pod: typeof good) => computeCheckProblems(attachment, prev, allocation, pod, host, 'weft0');

  it('passes with both addresses and both default routes, in any textual form', () => {
    assert.deepEqual(check(good), []);
    assert.deepEqual(
      check({
        ...good,
        addresses: ['10.244.1.7/24', 'FD00:10:244:1:0::7/64'],
        defaultGateways: ['10.244.1.1', 'fd00:10:244:1:0:0:0:1'],
      }),
      [],
    );
  });

  it('names the missing IPv6 address and the missing IPv6 default route', () => {
    assert.deepEqual(check({ ...good, addresses: ['10.244.1.7/24'] }), [
      'address fd00:10:244:1::7/64 missing on eth0 (has 10.244.1.7/24)',
    ]);
    assert.deepEqual(check({ ...good, defaultGateways: ['10.244.1.1'] }), [
      'default route via fd00:10:244:1::1 missing in /var/run/netns/p',
    ]);
    assert.deepEqual(check({ ...good, defaultGateways: ['fd00:10:244:1::1'] }), [
      'default route via 10.244.1.1 missing in /var/run/netns/p',
    ]);
  });

  it('an IPv6 address IPAM does not hold is named', () => {
    const other = { ...allocation, ips: ['10.244.1.7', 'fd00:10:244:1::8'] };
    assert.deepEqual(computeCheckProblems(attachment, prev, other, good, host, 'weft0'), [
      'address fd00:10:244:1::7 is not the one IPAM holds (10.244.1.7, fd00:10:244:1::8)',
    ]);
  });
});

describe('the pod network a request needs', () => {
  const ctxWith = (cidrs: string[]) =>
    ({
      localNetwork: () => ({ nodeName: 'n1', podCIDRs: cidrs, clusterCIDRs: [], bridge: 'weft0', mtu: 1450 }),
      log: silentLogger(),
    }) as unknown as CniContext;
  const refusal = (cidrs: string[], code?: number) => {
    try {
      requireLocalNetwork(ctxWith(cidrs), code);
    } catch (err) {
      assert.ok(err instanceof CniError);
      return [err.cniCode, err.details] as const;
    }
    return assert.fail('expected a refusal');
  };

  it('dual-stack gives a range per family', () => {
    assert.deepEqual(
      requireLocalNetwork(ctxWith(podCIDRs)).ranges.map((r) => r.cidr),
      podCIDRs,
    );
  });

  it('says what is missing for either family', () => {
    assert.deepEqual(refusal(['fd00:10:244:1::/64']), [
      11,
      'no IPv4 podCIDR (an IPv6-only pod network needs an IPv6-only cluster: clusterCIDRs with only an IPv6 CIDR) in podCIDRs ["fd00:10:244:1::/64"]',
    ]);
    const [code, details] = refusal(['10.244.1.0/24', 'fd00:10:244:1::1/64'], 50);
    assert.equal(code, 50);
    assert.match(details, /^IPv6 podCIDR "fd00:10:244:1::1\/64" is unusable: host bits set/);
  });
});
