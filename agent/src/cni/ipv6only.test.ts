import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { parseIp } from '../../../common/ip.js';
import { silentLogger } from '../../../common/log.js';
import { computeAddResult, computeWiring } from './cmd-add.js';
import { computeCheckProblems } from './cmd-check.js';
import { type CniContext, requireLocalNetwork } from './context.js';
import { CniError } from './errors.js';
import { Ipam, ipamStatePath } from './ipam.js';
import { computeRanges, primaryFamilyOf } from './ipam-range.js';
import { parseIpamState } from './ipam-state.js';
import { podMac } from './names.js';
import { formatResult } from './result.js';
import { tempDirs } from './test-fixtures.js';
import { planPodBatch } from './veth-plumbing.js';

/** An IPv6-only node (ADR 19): one IPv6 podCIDR, the cluster CIDRs IPv6 only. */
const POD_CIDRS = ['fd00:10:244:1::/64'];
const CLUSTER_CIDRS = ['fd00:10:244::/48'];
const attachment = { containerId: 'c6', ifname: 'eth0', netns: '/var/run/netns/p6' };
const allocation = { containerId: 'c6', ifname: 'eth0', ips: ['fd00:10:244:1::7'] };
const { ranges } = computeRanges(POD_CIDRS, 6);
const wiring = computeWiring(attachment, allocation, ranges, 'weft0', 1430);

describe('IPv6-only pod network: ranges', () => {
  it('the primary family is IPv6 only when every cluster CIDR is IPv6', () => {
    const table: Array<[string[], 4 | 6]> = [
      [['fd00:10:244::/48'], 6],
      [['10.244.0.0/16'], 4],
      [['10.244.0.0/16', 'fd00:10:244::/48'], 4],
      [[], 4],
    ];
    for (const [cidrs, family] of table) assert.equal(primaryFamilyOf(cidrs), family, cidrs.join(','));
  });

  it('one IPv6 range and no problem; what is missing or wrong is named', () => {
    assert.deepEqual(computeRanges(POD_CIDRS, 6).problems, []);
    assert.deepEqual(
      ranges.map((r) => [r.cidr, r.family]),
      [['fd00:10:244:1::/64', 6]],
    );
    const table: Array<[string[], string[]]> = [
      [[], ['no IPv6 podCIDR (the cluster is IPv6-only)']],
      [['10.244.1.0/24'], ['no IPv6 podCIDR (the cluster is IPv6-only)']],
      [['fd00::/64', 'fd01::/64'], ['more than one IPv6 podCIDR ("fd01::/64" is extra)']],
    ];
    for (const [cidrs, problems] of table) assert.deepEqual(computeRanges(cidrs, 6).problems, problems);
    const [bad, ...rest] = computeRanges(['fd00::1/64'], 6).problems;
    assert.match(bad ?? '', /^IPv6 podCIDR "fd00::1\/64" is unusable: host bits set/);
    assert.deepEqual(rest, [], 'the broken entry is named, not reported missing as well');
  });

  it('requireLocalNetwork follows the cluster CIDRs of the local network', () => {
    const ctxWith = (podCIDRs: string[], clusterCIDRs: string[]) =>
      ({
        localNetwork: () => ({ nodeName: 'n6', podCIDRs, clusterCIDRs, bridge: 'weft0', mtu: 1430 }),
        log: silentLogger(),
      }) as unknown as CniContext;
    assert.deepEqual(
      requireLocalNetwork(ctxWith(POD_CIDRS, CLUSTER_CIDRS)).ranges.map((r) => r.cidr),
      POD_CIDRS,
    );
    const refusal = (podCIDRs: string[], clusterCIDRs: string[]) => {
      try {
        requireLocalNetwork(ctxWith(podCIDRs, clusterCIDRs));
      } catch (err) {
        assert.ok(err instanceof CniError);
        return [err.cniCode, err.details];
      }
      return assert.fail('expected a refusal');
    };
    assert.deepEqual(refusal(POD_CIDRS, ['10.244.0.0/16', 'fd00:10:244::/48']), [
      11,
      'no IPv4 podCIDR (an IPv6-only pod network needs an IPv6-only cluster: clusterCIDRs with only an IPv6 CIDR) in podCIDRs ["fd00:10:244:1::/64"]',
    ]);
    assert.deepEqual(refusal(['10.244.1.0/24'], CLUSTER_CIDRS), [
      11,
      'no IPv6 podCIDR (the cluster is IPv6-only) in podCIDRs ["10.244.1.0/24"]',
    ]);
  });
});

describe('IPv6-only Ipam (files in a temp dir)', () => {
  const freshDir = tempDirs('wtcni-ipam6o-');
  const tiny = computeRanges(['fd00::/126'], 6).ranges; // ::2 and ::3
  const at = (id: string) => ({ containerId: id, ifname: 'eth0' });

  it('one IPv6 address per attachment, persisted with its cursor; exhaustion, release, reload and GC', async () => {
    const dir = await freshDir();
    const ipam = await Ipam.open(dir, 'weft');
    assert.deepEqual((await ipam.allocate(at('a'), tiny)).ips, ['fd00::2']);
    assert.deepEqual((await ipam.allocate(at('b'), tiny)).ips, ['fd00::3']);
    const err = await ipam.allocate(at('c'), tiny).then(
      () => assert.fail('expected exhaustion'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof CniError && err.cniCode === 100, String(err));
    assert.equal(err.details, 'all 2 addresses of fd00::/126 are allocated');
    assert.deepEqual(ipam.usage(tiny), { allocated: 2, capacity: 2 });
    await ipam.release(at('a'));
    assert.deepEqual((await ipam.allocate(at('d'), tiny)).ips, ['fd00::2'], 'the cursor wrapped');

    const text = await readFile(ipamStatePath(dir, 'weft'), 'utf8');
    const onDisk = parseIpamState(text);
    assert.deepEqual(Object.fromEntries([...onDisk.cursors].map(([k, v]) => [k, v.value])), {
      'fd00::/126': parseIp('fd00::2').value,
    });
    assert.deepEqual(JSON.parse(text).allocations, [
      { containerId: 'b', ifname: 'eth0', ips: ['fd00::3'] },
      { containerId: 'd', ifname: 'eth0', ips: ['fd00::2'] },
    ]);

    const reloaded = await Ipam.open(dir, 'weft');
    assert.deepEqual(reloaded.lookup(at('d'))?.ips, ['fd00::2']);
    const gone = await reloaded.releaseExcept(new Set(['d/eth0']), new Set());
    assert.deepEqual(
      gone.map((g) => g.ips),
      [['fd00::3']],
    );
    assert.deepEqual(reloaded.usage(tiny), { allocated: 1, capacity: 2 });
  });

  it('an allocation fits only with its IPv6 address in the range', () => {
    const a = { ...at('x'), ips: ['fd00::3'] };
    assert.ok(Ipam.fits(a, tiny));
    assert.ok(!Ipam.fits({ ...a, ips: ['fd00::9'] }, tiny), 'outside the range');
    assert.ok(!Ipam.fits({ ...a, ips: ['10.0.0.7', 'fd00::3'] }, tiny), 'an IPv4 address the node has not');
    assert.ok(!Ipam.fits(a, computeRanges(['10.0.0.0/24']).ranges));
  });
});

describe('IPv6-only ADD result, pod batch and CHECK', () => {
  it('only the IPv6 address, its gateway and ::/0 in the result', () => {
    const result = computeAddResult(wiring, undefined);
    assert.deepEqual(result.ips, [
      { address: 'fd00:10:244:1::7/64', gateway: 'fd00:10:244:1::1', interface: 1 },
    ]);
    assert.deepEqual(result.routes, [{ dst: '::/0', gw: 'fd00:10:244:1::1' }]);
    assert.deepEqual(result.interfaces[1], {
      name: 'eth0',
      mac: '0a:58:00:00:00:07',
      mtu: 1430,
      sandbox: attachment.netns,
    });
    const out = (v: '1.1.0' | '0.4.0') => JSON.parse(JSON.stringify(formatResult(result, v)));
    assert.equal(out('1.1.0').cniVersion, '1.1.0');
    assert.deepEqual(out('1.1.0').ips, result.ips, 'no IPv4 entry, no version field');
    assert.deepEqual(
      out('0.4.0').ips.map((ip: { version: string }) => ip.version),
      ['6'],
    );
  });

  it('the pod MAC comes from the IPv6 address when the pod has no IPv4 one', () => {
    const table: Array<[string, string]> = [
      ['10.244.1.7', '0a:58:0a:f4:01:07'],
      ['fd00:10:244:1::7', '0a:58:00:00:00:07'],
      ['fd00:10:244:1::1:a0b', '0a:58:00:01:0a:0b'],
      ['fd00:10:244:1:ffff:ffff:c0a8:102', '0a:58:c0:a8:01:02'],
    ];
    for (const [ip, mac] of table) assert.equal(podMac(ip), mac, ip);
    const dual = computeWiring(
      attachment,
      { ...allocation, ips: ['10.244.1.9', 'fd00:10:244:1::7'] },
      computeRanges(['10.244.1.0/24', ...POD_CIDRS]).ranges,
      'weft0',
      1430,
    );
    assert.equal(dual.podMac, '0a:58:0a:f4:01:09', 'dual-stack: from the IPv4 address, as before');
  });

  it('the pod batch adds the address nodad and the IPv6 default route only', () => {
    const batch = planPodBatch(wiring, '/proc/1/ns/net').slice(1).join('; ');
    const want = 'addr add fd00:10:244:1::7/64 dev eth0 nodad; link set eth0 up; link set lo up';
    assert.equal(batch, `${want}; route add default via fd00:10:244:1::1 dev eth0`);
  });

  it('CHECK passes with the address and ::/0, and names what is missing', () => {
    const prev = computeAddResult(wiring, undefined);
    // [pod addresses, pod default gateways, the problems CHECK names]
    const table: Array<[string[], string[], string[]]> = [
      [['FD00:10:244:1:0::7/64'], ['fd00:10:244:1::1'], []],
      [[], ['fd00:10:244:1::1'], ['address fd00:10:244:1::7/64 missing on eth0 (has none)']],
      [['fd00:10:244:1::7/64'], [], ['default route via fd00:10:244:1::1 missing in /var/run/netns/p6']],
    ];
    for (const [addresses, defaultGateways, problems] of table) {
      const pod = { exists: true, up: true, addresses, defaultGateways };
      const got = computeCheckProblems(
        attachment,
        prev,
        allocation,
        pod,
        { master: 'weft0', up: true },
        'weft0',
      );
      assert.deepEqual(got, problems, addresses.join(','));
    }
  });
});
