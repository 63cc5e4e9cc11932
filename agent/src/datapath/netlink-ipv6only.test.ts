import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bridgeBatchLine, ipBatchLine } from './apply.js';
import { desiredDatapath } from './desired.js';
import { Netlink } from './netlink.js';
import { parseLinks } from './netlink-parse.js';
import { planDatapath } from './plan.js';
import { EMPTY_STATE, fakeIpRunner, testConfig } from './test-fixtures.js';
import { detectUnderlay } from './underlay.js';

/** `ip -json addr show` of one link: IPv6 addresses given as "addr/len scope". */
const link = (ifname: string, mtu: number, addrs: string[]) => ({
  ifname,
  mtu,
  addr_info: addrs.map((a) => {
    const [cidr = '', scope] = a.split(' ');
    const [local, len] = cidr.split('/');
    return { family: 'inet6', local, prefixlen: Number(len), scope };
  }),
});
/** An IPv6-only node's underlay (no IPv4 address at all) and its kernel as the tools print it. */
const ADDRS = JSON.stringify([
  link('eth0', 9000, ['fd00:71::1/64 global', 'fe80::1/64 link']),
  link('eth1', 1500, ['fd00:99::1/64 global']),
]);
const ROUTES6 = JSON.stringify([
  { dst: 'fd00:71::/64', protocol: 'kernel', metric: 256, flags: [] },
  { dst: 'fd00:75::/64', protocol: 'ra', metric: 100, flags: [] },
  { dst: 'fe80::/64', protocol: 'kernel', metric: 256, flags: [] },
]);

const fake = () => fakeIpRunner(ADDRS, ROUTES6);

describe('an IPv6 underlay in and out of the kernel tools', () => {
  it('finds the underlay by its IPv6 address in any spelling, with its IPv6 subnets only', async () => {
    for (const ip of ['fd00:71::1', 'FD00:71:0:0::1']) {
      const { calls, run } = fake();
      const facts = await detectUnderlay(new Netlink({ run }), ip, 87);
      assert.deepEqual(facts, {
        iface: 'eth0',
        mtu: 9000,
        subnets: [],
        subnets6: ['fd00:71::/64', 'fd00:75::/64'],
      });
      assert.equal(calls.at(-1), 'ip -json -6 route show table main dev eth0');
    }
    await assert.rejects(
      detectUnderlay(new Netlink({ run: fake().run }), 'fd00:71::2', 87),
      /ENOUNDERLAY|no interface/,
    );
  });

  it('reads an IPv6 VXLAN source (iproute2 prints it as local6)', () => {
    const [vx] = parseLinks(
      JSON.stringify([
        {
          ifname: 'weft.vxlan',
          mtu: 8930,
          flags: ['UP'],
          address: '02:57:fd:00:00:70',
          linkinfo: {
            info_kind: 'vxlan',
            info_data: { id: 1, local6: 'fd00:71::1', link: 'eth0', port: 8472, learning: false },
          },
        },
      ]),
    );
    assert.deepEqual(vx?.vxlan, { vni: 1, port: 8472, local: 'fd00:71::1', dev: 'eth0', learning: false });
  });

  it('plans the VXLAN device with an IPv6 local and the FDB entry with an IPv6 dst', () => {
    const self = { name: 'n1', underlayIP: 'fd00:71::1', podCIDRs: ['fd00:10:244:1::/64'] };
    const n3 = { name: 'n3', underlayIP: 'fd00:72::3', podCIDRs: ['fd00:10:244:3::/64'] };
    const underlay = { iface: 'eth0', mtu: 9000, subnets: [], subnets6: ['fd00:71::/64'] };
    const cfg = testConfig('auto', { clusterCIDRs: ['fd00:10:244::/56'] });
    const d = desiredDatapath(self, [n3], cfg, underlay);
    const plan = planDatapath(d, EMPTY_STATE);
    const lines = plan.map((o) => ipBatchLine(o, 87) ?? bridgeBatchLine(o)).filter((l) => l !== undefined);
    assert.deepEqual(lines, [
      'link add name weft0 address 0a:57:fd:00:00:70 mtu 8930 type bridge',
      'link add name weft.vxlan address 02:57:fd:00:00:70 mtu 8930 type vxlan id 1 local fd00:71::1 dev eth0 dstport 8472 nolearning',
      'link set dev weft0 up',
      'link set dev weft.vxlan up',
      'addr add fd00:10:244:1::1/64 dev weft0 nodad',
      'addr add fd00:10:244:1::/128 dev weft.vxlan nodad',
      'neigh replace fd00:10:244:3:: lladdr 02:57:fd:00:00:71 dev weft.vxlan nud permanent',
      'route add fd00:10:244:3::/64 via fd00:10:244:3:: dev weft.vxlan onlink proto 87 metric 1024 table main',
      'fdb replace 02:57:fd:00:00:71 dev weft.vxlan dst fd00:72::3 self permanent',
    ]);
    assert.deepEqual(
      plan.filter((o) => o.op === 'sysctl').map((o) => (o.op === 'sysctl' ? o.key : '')),
      ['net/ipv6/conf/eth0/accept_ra', 'net.ipv6.conf.all.forwarding'],
    );
    const { bridge, vxlan, routes, replyRoutes, rules, neighbours, fdb, sysctls, nft } = d;
    const kernel = { bridge, vxlan, routes, replyRoutes, rules, neighbours, fdb, sysctls, nft };
    assert.deepEqual(planDatapath(d, kernel), [], 'the kernel as desired: nothing to do');
  });
});
