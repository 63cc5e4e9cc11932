import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeWiring } from './cmd-add.js';
import { IpCommandError, type IpRunner } from './ip-runner.js';
import { computeRanges } from './ipam-range.js';
import { VethPlumbing } from './veth-plumbing.js';

const a = { containerId: 'c1', ifname: 'eth0', netns: '/var/run/netns/p' };
const ranges = computeRanges(['10.244.1.0/24', 'fd00:10:244:1::/64']).ranges;
const wiring = computeWiring(a, { ...a, ips: ['10.244.1.7', 'fd00:10:244:1::7'] }, ranges, 'weft0', 1450);

/** An IpRunner that records calls; `podAnswers` fail the pod batches in turn (undefined = success). */
function fakeRunner(podAnswers: Array<string | undefined>, sysctlFails = false) {
  const calls: string[] = [];
  const runner: IpRunner = {
    hostNetnsRef: '/proc/1/ns/net',
    host: async () => '[]',
    hostBatch: async (lines) => void calls.push(`host: ${lines.join('; ')}`),
    pod: async (netns, _args, stdin) => {
      calls.push(`pod ${netns}: ${(stdin ?? '').trim().split('\n').join('; ')}`);
      const stderr = podAnswers.shift();
      if (stderr !== undefined) throw new IpCommandError('EIP', `ip -batch -: ${stderr}`, stderr);
      return '';
    },
    podSysctl: async (netns, key, value) => {
      calls.push(`sysctl ${netns}: ${key}=${value}`);
      if (sysctlFails) throw new Error('sysctl: permission denied on key');
    },
    close: () => {},
  };
  return { runner, calls };
}

const DISABLED = 'Error: ipv6: IPv6 is disabled on this device.\nCommand failed -:3';

describe('VethPlumbing.applyWiring', () => {
  it('IPv6 disabled on the new interface: enables it in the pod netns and goes on from the IPv6 address', async () => {
    const { runner, calls } = fakeRunner([DISABLED, undefined]);
    await new VethPlumbing(runner).applyWiring(wiring);
    assert.equal(calls.length, 4);
    assert.equal(calls[1], 'sysctl /var/run/netns/p: net/ipv6/conf/eth0/disable_ipv6=0');
    assert.equal(
      calls[2],
      'pod /var/run/netns/p: addr add fd00:10:244:1::7/64 dev eth0 nodad; link set eth0 up; link set lo up; ' +
        'route add default via 10.244.1.1 dev eth0; route add default via fd00:10:244:1::1 dev eth0',
    );
    assert.match(calls[3] ?? '', /^host: link set weft[0-9a-f]{8} master weft0 up/);
  });

  it('other failures are not retried; the veth pair is removed unless creating it failed', async () => {
    const other = fakeRunner(['Error: Nexthop has invalid gateway.\nCommand failed -:6']);
    await assert.rejects(new VethPlumbing(other.runner).applyWiring(wiring), /invalid gateway/);
    assert.deepEqual(other.calls.slice(1), [`host: link del ${wiring.hostVeth}`]);

    const exists = fakeRunner(['RTNETLINK answers: File exists\nCommand failed -:1']);
    await assert.rejects(new VethPlumbing(exists.runner).applyWiring(wiring), /File exists/);
    assert.equal(exists.calls.length, 1, 'nothing of ours to undo');

    const twice = fakeRunner([DISABLED, 'Error: ipv6: IPv6 is disabled on this device.\nCommand failed -:1']);
    await assert.rejects(new VethPlumbing(twice.runner).applyWiring(wiring), /IPv6 is disabled/);
    assert.equal(twice.calls.at(-1), `host: link del ${wiring.hostVeth}`, 'retried once, then undone');
  });

  it('a failing sysctl fails ADD and removes the pair', async () => {
    const { runner, calls } = fakeRunner([DISABLED], true);
    await assert.rejects(new VethPlumbing(runner).applyWiring(wiring), /sysctl: permission denied/);
    assert.equal(calls.at(-1), `host: link del ${wiring.hostVeth}`);
  });
});
