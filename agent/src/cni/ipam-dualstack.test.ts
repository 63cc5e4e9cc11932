import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describe, it } from 'node:test';
import { parseIp } from '../../../common/ip.js';
import { CniError } from './errors.js';
import { Ipam, ipamStatePath } from './ipam.js';
import { chooseAddress, computeRanges, formatGateway, rangeCapacity } from './ipam-range.js';
import { parseIpamState, serializeIpamState } from './ipam-state.js';
import { tempDirs } from './test-fixtures.js';

const V6 = 'fd00:10:244:1::/64';

describe('IPAM ranges, dual-stack', () => {
  it('an IPv6 range is the podCIDR minus the network address and the gateway', () => {
    const { ranges, problems } = computeRanges(['10.244.1.0/24', V6]);
    assert.deepEqual(problems, []);
    const r = ranges[1];
    assert.ok(r);
    assert.deepEqual([r.cidr, r.family, r.prefix], [V6, 6, 64]);
    assert.equal(formatGateway(r), 'fd00:10:244:1::1');
    assert.deepEqual(r.first, parseIp('fd00:10:244:1::2').value);
    assert.deepEqual(r.last, parseIp('fd00:10:244:1:ffff:ffff:ffff:ffff').value);
    assert.equal(rangeCapacity(r), 2n ** 64n - 2n);
    assert.equal(rangeCapacity(computeRanges(['10.0.0.0/24', 'fd00::/126']).ranges[1] ?? r), 2n);
    assert.equal(rangeCapacity(computeRanges(['10.0.0.0/24', 'fd00::/127']).ranges[1] ?? r), 0n);
  });

  it('names what is missing or wrong for each family', () => {
    const missingV4 =
      'no IPv4 podCIDR (an IPv6-only pod network needs an IPv6-only cluster: clusterCIDRs with only an IPv6 CIDR)';
    assert.deepEqual(computeRanges([V6]).problems, [missingV4]);
    assert.deepEqual(computeRanges([]).problems, [missingV4]);
    assert.deepEqual(computeRanges(['10.0.0.0/24', 'fd00::/64', 'fd01::/64']).problems, [
      'more than one IPv6 podCIDR ("fd01::/64" is extra)',
    ]);
    const [bad] = computeRanges(['10.0.0.0/24', 'fd00::1/64']).problems;
    assert.match(bad ?? '', /^IPv6 podCIDR "fd00::1\/64" is unusable: host bits set/);
    const [badV4, noV4] = computeRanges(['10.0.0.300/24', V6]).problems;
    assert.match(badV4 ?? '', /^IPv4 podCIDR "10\.0\.0\.300\/24" is unusable/);
    assert.equal(noV4, undefined, 'the broken IPv4 entry is named, not reported missing as well');
  });

  it('picks IPv6 addresses after the cursor without listing the /64, wrapping at its end', () => {
    const [, r] = computeRanges(['10.0.0.0/24', V6]).ranges;
    assert.ok(r);
    const ip = (s: string) => parseIp(`fd00:10:244:1:${s}`);
    const used = new Set([ip(':2').value, ip(':3').value]);
    assert.deepEqual(chooseAddress(r, used, undefined), ip(':4'));
    assert.deepEqual(chooseAddress(r, new Set(), ip(':41')), ip(':42'));
    const top = ip('ffff:ffff:ffff:ffff');
    assert.deepEqual(chooseAddress(r, used, top), ip(':4'), 'wraps to the first free one');
    assert.deepEqual(
      chooseAddress(r, new Set(), parseIp('10.0.0.9')),
      ip(':2'),
      'a cursor of the other family is ignored',
    );
    const [, tiny] = computeRanges(['10.0.0.0/24', 'fd00::/125']).ranges; // ::2 – ::7
    assert.ok(tiny);
    const all = new Set([2n, 3n, 4n, 5n, 6n, 7n].map((n) => parseIp('fd00::').value + n));
    assert.equal(chooseAddress(tiny, all, parseIp('fd00::4')), undefined);
    all.delete(parseIp('fd00::3').value);
    assert.deepEqual(chooseAddress(tiny, all, parseIp('fd00::4')), parseIp('fd00::3'));
  });
});

describe('Ipam, dual-stack (files in a temp dir)', () => {
  const freshDir = tempDirs('wtcni-ipam6-');
  const ranges = computeRanges(['10.0.0.0/24', 'fd00::/126']).ranges; // IPv6: ::2 and ::3
  const at = (id: string) => ({ containerId: id, ifname: 'eth0' });

  it('one address per family, persisted with both cursors; exhaustion of the IPv6 range is 100 and takes nothing', async () => {
    const dir = await freshDir();
    const ipam = await Ipam.open(dir, 'weft');
    assert.deepEqual((await ipam.allocate(at('a'), ranges)).ips, ['10.0.0.2', 'fd00::2']);
    assert.deepEqual((await ipam.allocate(at('b'), ranges)).ips, ['10.0.0.3', 'fd00::3']);
    const err = await ipam.allocate(at('c'), ranges).then(
      () => assert.fail('expected exhaustion'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof CniError && err.cniCode === 100, String(err));
    assert.equal(err.details, 'all 2 addresses of fd00::/126 are allocated');
    assert.equal(ipam.lookup(at('c')), undefined);
    assert.deepEqual(ipam.usage(ranges), { allocated: 2, capacity: 2 }, 'the IPv6 range is what limits');

    await ipam.release(at('a'));
    assert.deepEqual(
      (await ipam.allocate(at('d'), ranges)).ips,
      ['10.0.0.4', 'fd00::2'],
      'IPv6 cursor wrapped',
    );
    const onDisk = parseIpamState(await readFile(ipamStatePath(dir, 'weft'), 'utf8'));
    assert.deepEqual(Object.fromEntries([...onDisk.cursors].map(([k, v]) => [k, v.value])), {
      '10.0.0.0/24': parseIp('10.0.0.4').value,
      'fd00::/126': parseIp('fd00::2').value,
    });

    const reloaded = await Ipam.open(dir, 'weft');
    assert.deepEqual(reloaded.lookup(at('d'))?.ips, ['10.0.0.4', 'fd00::2']);
    await reloaded.release(at('b'));
    assert.deepEqual((await reloaded.allocate(at('e'), ranges)).ips, ['10.0.0.5', 'fd00::3']);
    const gone = await reloaded.releaseExcept(new Set(['d/eth0']), new Set());
    assert.deepEqual(
      gone.map((g) => g.ips),
      [['10.0.0.5', 'fd00::3']],
      'GC releases both addresses',
    );
    assert.deepEqual(reloaded.usage(ranges), { allocated: 1, capacity: 2 });
  });

  it('an allocation fits only with one address in each range', () => {
    const dual = { ...at('x'), ips: ['10.0.0.7', 'fd00::3'] };
    const v4only = computeRanges(['10.0.0.0/24']).ranges;
    assert.ok(Ipam.fits(dual, ranges));
    assert.ok(!Ipam.fits(dual, v4only), 'an IPv6 address the node no longer has');
    assert.ok(!Ipam.fits({ ...dual, ips: ['10.0.0.7'] }, ranges), 'the node gained an IPv6 podCIDR');
    assert.ok(!Ipam.fits({ ...dual, ips: ['10.0.0.7', 'fd00::9'] }, ranges), 'outside the IPv6 range');
    assert.ok(!Ipam.fits({ ...dual, ips: ['10.0.0.7', '10.0.0.8'] }, ranges));
  });

  // Exactly what the IPv4-only version wrote (serializeIpamState, JSON indented by 1).
  const OLD_FILE = `{
 "version": 1,
 "network": "weft",
 "cursors": {
  "10.244.1.0/24": "10.244.1.7"
 },
 "allocations": [
  {
   "containerId": "0f3c9a",
   "ifname": "eth0",
   "ips": [
    "10.244.1.5"
   ]
  },
  {
   "containerId": "7d21be",
   "ifname": "eth0",
   "ips": [
    "10.244.1.7"
   ]
  }
 ]
}
`;

  it('a state file of the IPv4-only version loads unchanged; dual-stack allocates next to it', async () => {
    assert.equal(serializeIpamState('weft', parseIpamState(OLD_FILE)), OLD_FILE, 'byte-identical round trip');
    const dir = await freshDir();
    const path = ipamStatePath(dir, 'weft');
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, OLD_FILE);
    const ipam = await Ipam.open(dir, 'weft');
    assert.deepEqual(ipam.lookup(at('0f3c9a'))?.ips, ['10.244.1.5']);
    const v4 = computeRanges(['10.244.1.0/24']).ranges;
    const dual = computeRanges(['10.244.1.0/24', 'fd00:10:244:1::/64']).ranges;
    assert.deepEqual(ipam.usage(v4), { allocated: 2, capacity: 253 });
    assert.deepEqual(ipam.usage(dual), { allocated: 2, capacity: 253 });
    const old = ipam.lookup(at('7d21be'));
    assert.ok(old && Ipam.fits(old, v4) && !Ipam.fits(old, dual));
    const added = await ipam.allocate(at('new'), dual);
    assert.deepEqual(added.ips, ['10.244.1.8', 'fd00:10:244:1::2'], 'the IPv4 cursor survived');
    assert.deepEqual((await ipam.release(at('7d21be')))?.ips, ['10.244.1.7']);
    const text = await readFile(path, 'utf8');
    assert.match(text, /"fd00:10:244:1::\/64": "fd00:10:244:1::2"/);
    assert.deepEqual([...parseIpamState(text).allocations.keys()], ['0f3c9a/eth0', 'new/eth0']);
  });

  it('malformed state is refused, naming the field; Ipam.open answers 103', async () => {
    const withIps = (ips: string[]) =>
      JSON.stringify({
        version: 1,
        network: 'weft',
        cursors: {},
        allocations: [{ containerId: 'c', ifname: 'eth0', ips }],
      });
    assert.throws(() => parseIpamState(withIps(['10.0.0.2', 'fd00::zz'])), /allocations\[0\]\.ips\[1\]/);
    assert.throws(() => parseIpamState(withIps(['::ffff:10.0.0.2'])), /allocations\[0\]\.ips\[0\]/);
    assert.throws(
      () => parseIpamState('{"version":1,"cursors":{"fd00::/64":"nope"},"allocations":[]}'),
      /cursors\.fd00::\/64/,
    );
    const dir = await freshDir();
    const path = ipamStatePath(dir, 'weft');
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, withIps(['fd00::zz']));
    await assert.rejects(Ipam.open(dir, 'weft'), (e: unknown) => e instanceof CniError && e.cniCode === 103);
  });
});
