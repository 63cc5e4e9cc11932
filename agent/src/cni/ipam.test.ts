import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { parseIpv4 } from '../../../common/cidr.js';
import { parseIp } from '../../../common/ip.js';
import { CniError } from './errors.js';
import { Ipam, ipamStatePath } from './ipam.js';
import { chooseAddress, computeRanges, rangeCapacity } from './ipam-range.js';
import { parseIpamState, serializeIpamState } from './ipam-state.js';
import { tempDirs } from './test-fixtures.js';

describe('IPAM ranges', () => {
  it('reserves network, gateway and broadcast; one range per family', () => {
    const { ranges, problems } = computeRanges(['10.244.1.0/24', 'fd00::/64']);
    assert.equal(ranges.length, 2);
    assert.deepEqual(problems, []);
    const r = ranges[0];
    assert.ok(r);
    assert.equal(rangeCapacity(r), 253n);
    assert.equal(r.first, BigInt(parseIpv4('10.244.1.2')));
    assert.equal(r.last, BigInt(parseIpv4('10.244.1.254')));
  });
  it('hands out round robin after the cursor and wraps', () => {
    const [r] = computeRanges(['10.0.0.0/29']).ranges; // .2 – .6
    assert.ok(r);
    const ip = (s: string) => parseIp(`10.0.0.${s}`);
    const used = (...ns: number[]) => new Set(ns.map((n) => ip(String(n)).value));
    assert.deepEqual(chooseAddress(r, used(), undefined), ip('2'));
    assert.deepEqual(chooseAddress(r, used(), ip('2')), ip('3'));
    assert.deepEqual(chooseAddress(r, used(2), ip('6')), ip('3'));
    assert.equal(chooseAddress(r, used(2, 3, 4, 5, 6), ip('4')), undefined);
    assert.equal(rangeCapacity(computeRanges(['10.0.0.0/31']).ranges[0] ?? r), 0n);
  });
  it('state file round-trips', () => {
    const text = serializeIpamState('weft', {
      allocations: new Map([['c/eth0', { containerId: 'c', ifname: 'eth0', ips: ['10.0.0.2'] }]]),
      cursors: new Map([['10.0.0.0/24', parseIp('10.0.0.2')]]),
    });
    const state = parseIpamState(text);
    assert.deepEqual(state.allocations.get('c/eth0')?.ips, ['10.0.0.2']);
    assert.throws(() => parseIpamState('{"version":2}'), /version/);
  });
});

describe('Ipam (files in a temp dir)', () => {
  const freshDir = tempDirs('wtcni-ipam-');
  const ranges = computeRanges(['10.0.0.0/29']).ranges;

  it('persists before returning, does not reuse a freed address at once, survives a reload', async () => {
    const dir = await freshDir();
    const ipam = await Ipam.open(dir, 'weft');
    const a = await ipam.allocate({ containerId: 'a', ifname: 'eth0' }, ranges);
    const onDisk = parseIpamState(await readFile(ipamStatePath(dir, 'weft'), 'utf8'));
    assert.deepEqual(onDisk.allocations.get('a/eth0')?.ips, a.ips);
    await ipam.release({ containerId: 'a', ifname: 'eth0' });
    const b = await ipam.allocate({ containerId: 'b', ifname: 'eth0' }, ranges);
    assert.notDeepEqual(b.ips, a.ips);
    const reloaded = await Ipam.open(dir, 'weft');
    const c = await reloaded.allocate({ containerId: 'c', ifname: 'eth0' }, ranges);
    assert.deepEqual(c.ips, ['10.0.0.4'], 'cursor persisted');
    assert.deepEqual(reloaded.usage(ranges), { allocated: 2, capacity: 5 });
  });

  it('concurrent allocations never collide and exhaustion is error 100', async () => {
    const ipam = await Ipam.open(await freshDir(), 'weft');
    const settled = await Promise.allSettled(
      Array.from({ length: 7 }, (_, i) => ipam.allocate({ containerId: `c${i}`, ifname: 'eth0' }, ranges)),
    );
    const ok = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value.ips[0]] : []));
    assert.equal(new Set(ok).size, 5);
    const failed = settled.filter((s) => s.status === 'rejected');
    assert.equal(failed.length, 2);
    for (const f of failed) assert.ok(f.reason instanceof CniError && f.reason.cniCode === 100);
  });

  it('releaseExcept keeps valid and busy attachments; out-of-range allocations do not fit', async () => {
    const ipam = await Ipam.open(await freshDir(), 'weft');
    for (const id of ['a', 'b', 'c']) await ipam.allocate({ containerId: id, ifname: 'eth0' }, ranges);
    const released = await ipam.releaseExcept(new Set(['a/eth0']), new Set(['b/eth0']));
    assert.deepEqual(
      released.map((r) => r.containerId),
      ['c'],
    );
    const moved = computeRanges(['10.9.0.0/29']).ranges;
    const a = ipam.lookup({ containerId: 'a', ifname: 'eth0' });
    assert.ok(a && Ipam.fits(a, ranges) && !Ipam.fits(a, moved));
    assert.deepEqual(ipam.usage(moved), { allocated: 0, capacity: 5 });
  });
});
