import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ipBatchLine } from './apply.js';
import { keepRouterAdvertisements, routerAdvertisementKeys } from './ipv6-sysctls.js';
import { type CommandRunner, Netlink } from './netlink.js';
import { parseAddrs } from './netlink-parse.js';
import { fakeIpRunner } from './test-fixtures.js';
import { detectUnderlay } from './underlay.js';

/** `ip -json addr show` of an underlay with both families, and of Weft's VXLAN device. */
const ADDRS = JSON.stringify([
  {
    ifname: 'eth0',
    mtu: 1500,
    addr_info: [
      { family: 'inet', local: '192.168.71.1', prefixlen: 24, scope: 'global' },
      { family: 'inet6', local: 'fd00:71::1', prefixlen: 64, scope: 'global' },
      { family: 'inet6', local: '2001:db8:5::1', prefixlen: 128, scope: 'global' },
      { family: 'inet6', local: 'fe80::c411:4aff:fe89:fec1', prefixlen: 64, scope: 'link' },
    ],
  },
  {
    ifname: 'weft.vxlan',
    mtu: 1450,
    addr_info: [
      { family: 'inet', local: '10.244.1.0', prefixlen: 32, scope: 'global' },
      { family: 'inet6', local: 'fd00:10:244:1::', prefixlen: 128, scope: 'global', nodad: true },
      { family: 'inet6', local: 'fe80::57:c0ff:fea8:4701', prefixlen: 64, scope: 'link' },
    ],
  },
]);

/** `ip -json -6 route show table main dev eth0`, as a kernel prints it (dev left out). */
const ROUTES6 = JSON.stringify([
  { dst: 'fd00:10:244:2::/64', gateway: 'fd00:71::2', protocol: '87', metric: 1024, flags: [] },
  { dst: 'fd00:71::/64', protocol: 'kernel', metric: 256, flags: [] },
  { dst: 'fd00:99::/64', protocol: '87', metric: 1024, flags: [] },
  { dst: '2001:db8:5::/64', protocol: 'ra', metric: 100, flags: [] },
  { dst: 'fe80::/64', protocol: 'kernel', metric: 256, flags: [] },
  { dst: 'default', gateway: 'fe80::1', protocol: 'ra', metric: 100, flags: [] },
]);

const fake = () => fakeIpRunner(ADDRS, ROUTES6);

describe('IPv6 in and out of the kernel tools', () => {
  it('reads addresses of both families and never the kernel’s link-local ones', () => {
    const [eth0, vxlan] = parseAddrs(ADDRS);
    assert.deepEqual(eth0?.cidrs, ['192.168.71.1/24']);
    assert.deepEqual(eth0?.cidrs6, ['fd00:71::1/64', '2001:db8:5::1/128']);
    assert.deepEqual(vxlan?.cidrs6, ['fd00:10:244:1::/128']);
  });

  it('learns the IPv6 subnets of the underlay interface only when asked, without link-local, /128 or Weft’s routes', async () => {
    const { calls, run } = fake();
    const netlink = new Netlink({ run });
    const v4 = await detectUnderlay(netlink, '192.168.71.1', 87);
    assert.deepEqual(v4, { iface: 'eth0', mtu: 1500, subnets: ['192.168.71.0/24'] });
    assert.ok(!calls.some((c) => c.includes('-6')), 'an IPv4-only node reads no IPv6 route');
    const dual = await detectUnderlay(netlink, '192.168.71.1', 87, true);
    assert.deepEqual(dual.subnets6, ['2001:db8:5::/64', 'fd00:71::/64']);
    assert.equal(calls.at(-1), 'ip -json -6 route show table main dev eth0');
  });

  it('lists and flushes IPv6 routes by protocol, and reads neighbours of both families', async () => {
    const { calls, run } = fake();
    const netlink = new Netlink({ netns: 'wtds-x', run });
    await netlink.listRoutes(87, 'main', 6);
    await netlink.flushRoutes(87, 'main', 6);
    await netlink.listNeighbours('weft.vxlan');
    assert.deepEqual(calls, [
      'ip -n wtds-x -json -6 route show table main proto 87',
      'ip -n wtds-x -6 route flush table main proto 87',
      'ip -n wtds-x -json neigh show dev weft.vxlan',
    ]);
    const noIpv6: CommandRunner = async () => ({
      exitCode: 2,
      stdout: '',
      stderr: 'RTNETLINK answers: Address family not supported by protocol',
    });
    assert.deepEqual(
      await new Netlink({ run: noIpv6 }).listRoutes(87, 'main', 6),
      [],
      'IPv6 off at boot: none',
    );
  });

  it('writes IPv6 batch lines: the kernel’s default metric spelt out, addresses without DAD', () => {
    const route = {
      dst: 'fd00:10:244:3::/64',
      gateway: 'fd00:10:244:3::',
      dev: 'weft.vxlan',
      onlink: true,
      metric: 1024,
    };
    assert.equal(
      ipBatchLine({ op: 'route-add', route }, 87),
      'route add fd00:10:244:3::/64 via fd00:10:244:3:: dev weft.vxlan onlink proto 87 metric 1024 table main',
    );
    assert.equal(
      ipBatchLine(
        {
          op: 'neigh-replace',
          neigh: { dev: 'weft.vxlan', ip: 'fd00:10:244:3::', mac: '02:57:c0:a8:48:03' },
        },
        87,
      ),
      'neigh replace fd00:10:244:3:: lladdr 02:57:c0:a8:48:03 dev weft.vxlan nud permanent',
    );
    assert.equal(
      ipBatchLine({ op: 'addr-add', dev: 'weft0', cidr: 'fd00:10:244:1::1/64' }, 87),
      'addr add fd00:10:244:1::1/64 dev weft0 nodad',
    );
    assert.equal(
      ipBatchLine({ op: 'addr-add', dev: 'weft0', cidr: '10.244.1.1/24' }, 87),
      'addr add 10.244.1.1/24 dev weft0',
    );
    assert.equal(
      ipBatchLine({ op: 'addr-del', dev: 'weft0', cidr: 'fd00:10:244:1::1/64' }, 87),
      'addr del fd00:10:244:1::1/64 dev weft0',
    );
  });

  it('sets accept_ra=2 on the underlay only where it takes router advertisements now', () => {
    const want = new Map([
      ['net/ipv6/conf/eth0/accept_ra', '2'],
      ['net.ipv6.conf.all.forwarding', '1'],
    ]);
    assert.deepEqual(routerAdvertisementKeys(want), ['net/ipv6/conf/eth0/forwarding']);
    const table: [string, string, boolean][] = [
      ['1', '0', true], // accepting now: keep accepting once forwarding is on
      ['2', '1', true], // set before (by Weft or by hand): stays
      ['2', '0', true],
      ['0', '0', false], // static IPv6 configuration: untouched
      ['1', '1', false], // already a router that ignores them: untouched
      ['', '', false], // no such key (IPv6 off): untouched
    ];
    for (const [ra, forwarding, kept] of table) {
      const observed = new Map([
        ['net/ipv6/conf/eth0/accept_ra', ra],
        ['net/ipv6/conf/eth0/forwarding', forwarding],
      ]);
      const got = keepRouterAdvertisements(want, observed);
      assert.equal(got.has('net/ipv6/conf/eth0/accept_ra'), kept, `accept_ra=${ra} forwarding=${forwarding}`);
      assert.equal(got.get('net.ipv6.conf.all.forwarding'), '1');
    }
    const v4 = new Map([['net.ipv4.ip_forward', '1']]);
    assert.equal(keepRouterAdvertisements(v4, new Map()), v4);
    assert.deepEqual(routerAdvertisementKeys(v4), []);
  });
});
