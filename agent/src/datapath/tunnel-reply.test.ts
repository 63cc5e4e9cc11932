import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ipBatchLine } from './apply.js';
import { desiredDatapath } from './desired.js';
import { parseRules } from './netlink-parse.js';
import { renderNftReplace } from './nft-ruleset.js';
import { type PlanOp, planDatapath } from './plan.js';
import type { DatapathState, DesiredDatapath, RouteState } from './state.js';
import { testConfig } from './test-fixtures.js';
import { desiredReplyRule, rpFilterKey } from './tunnel-reply.js';
import type { Backend, PeerNode } from './types.js';

const self = { name: 'n1', underlayIP: '192.168.71.1', podCIDRs: ['10.244.1.0/24'] };
const near: PeerNode = { name: 'n2', underlayIP: '192.168.71.2', podCIDRs: ['10.244.2.0/24'] };
const far: PeerNode = {
  name: 'n3',
  underlayIP: '192.168.72.3',
  podCIDRs: ['10.244.3.0/24', '10.245.3.0/24'],
};
const underlay = { iface: 'eth0', mtu: 1500, subnets: ['192.168.71.0/24'] };
const desired = (backend: Backend, peers: PeerNode[]) =>
  desiredDatapath(self, peers, testConfig(backend), underlay);
const kernelOf = (d: DesiredDatapath, change: Partial<DatapathState> = {}): DatapathState => {
  const { bridge, vxlan, routes, replyRoutes, rules, neighbours, fdb, sysctls, nft } = d;
  return { bridge, vxlan, routes, replyRoutes, rules, neighbours, fdb, sysctls, nft, ...change };
};
const farReply: RouteState = {
  dst: '192.168.72.3/32',
  gateway: '10.244.3.0',
  dev: 'weft.vxlan',
  onlink: true,
  metric: 0,
};
const nearReply: RouteState = { ...farReply, dst: '192.168.71.2/32', gateway: '10.244.2.0' };

describe('node IP over VXLAN: desired state', () => {
  it('wants a reply route per VXLAN peer, the fwmark rule, loose rp_filter and both chains only with a VXLAN device', () => {
    const table: [Backend, PeerNode[], RouteState[], boolean][] = [
      ['hostgw', [near], [], false],
      ['auto', [near], [], true],
      ['auto', [near, far], [farReply], true],
      ['vxlan', [near, far], [nearReply, farReply], true],
    ];
    for (const [backend, peers, replyRoutes, tunnel] of table) {
      const d = desired(backend, peers);
      const what = `${backend} ${peers.map((p) => p.name)}`;
      assert.deepEqual(d.replyRoutes, replyRoutes, what);
      assert.deepEqual(d.rules, tunnel ? [desiredReplyRule('weft0')] : [], what);
      assert.equal(d.sysctls.get(rpFilterKey('weft.vxlan')), tunnel ? '2' : undefined, what);
      const chains = (d.nft?.chains ?? []).map((c) => [c.name, c.type, c.hook, c.prio]);
      assert.equal(
        chains.some(([n]) => n === 'node-snat'),
        tunnel,
        what,
      );
      if (!tunnel) continue;
      assert.deepEqual(
        chains.filter(([n]) => n === 'node-snat' || n === 'tunnel-reply'),
        [
          ['node-snat', 'nat', 'postrouting', 99],
          ['tunnel-reply', 'filter', 'prerouting', -150],
        ],
      );
    }
    assert.deepEqual(desiredReplyRule('weft0'), {
      priority: 1087,
      iif: 'weft0',
      fwmark: '0x1000',
      fwmask: '0x1000',
      table: '87',
    });
  });

  it('renders the identity SNAT and the mark rules with the node IP and device, identities naming both', () => {
    const d = desired('auto', [far]);
    assert.ok(d.nft);
    const script = renderNftReplace(d.nft, d.nftRules);
    for (const line of [
      'type nat hook postrouting priority 99; policy accept;',
      'oifname "weft.vxlan" ip saddr 192.168.71.1 meta mark set 0x00000000 snat ip to 192.168.71.1 comment "weft-node-snat 192.168.71.1 weft.vxlan mark-0"',
      'type filter hook prerouting priority -150; policy accept;',
      'iifname "weft.vxlan" ct direction original ct state new ip saddr != @cluster4 ct mark set ct mark | 0x00001000 comment "weft-tunnel-mark weft.vxlan 0x1000"',
      'ct direction reply ct mark & 0x00001000 == 0x00001000 meta mark set meta mark | 0x00001000 comment "weft-tunnel-reply 0x1000"',
    ]) {
      assert.ok(script.includes(`    ${line}\n`), line);
    }
    // Another node IP or device name is another rule identity: observe sees the difference.
    const moved = desiredDatapath(
      { ...self, underlayIP: '192.168.71.9' },
      [far],
      testConfig('auto'),
      underlay,
    );
    assert.notDeepEqual(moved.nft?.chains, d.nft.chains);
  });
});

describe('node IP over VXLAN: plan and apply', () => {
  const d = desired('auto', [near, far]);
  const ops = (plan: PlanOp[]) => plan.map((o) => o.op);

  it('plans nothing when the kernel has it all', () => {
    assert.deepEqual(planDatapath(d, kernelOf(d)), []);
  });

  it('adds a missing reply route and rule (rule after the route), and leaves a present rule alone', () => {
    const plan = planDatapath(d, kernelOf(d, { replyRoutes: [], rules: [] }));
    assert.deepEqual(plan, [
      { op: 'route-add', route: farReply, table: 87 },
      { op: 'rule-add', rule: desiredReplyRule('weft0') },
    ]);
    assert.deepEqual(planDatapath(d, kernelOf(d, { rules: [desiredReplyRule('weft0')] })), []);
  });

  it('removes a stray route of its protocol in table 87, replaces a wrong gateway, and a changed rule', () => {
    const stray = { ...farReply, dst: '192.168.72.99/32' };
    const wrong = { ...farReply, gateway: '10.244.9.0' };
    const oldRule = { ...desiredReplyRule('weft0'), priority: 99 };
    assert.deepEqual(planDatapath(d, kernelOf(d, { replyRoutes: [wrong, stray], rules: [oldRule] })), [
      { op: 'route-del', route: stray, table: 87 },
      { op: 'rule-del', rule: oldRule },
      { op: 'route-replace', route: farReply, table: 87 },
      { op: 'rule-add', rule: desiredReplyRule('weft0') },
    ]);
  });

  it('drops the rule when no VXLAN device is wanted; the reply routes go with the device', () => {
    const hostgw = desired('hostgw', [near]);
    assert.deepEqual(ops(planDatapath(hostgw, kernelOf(d))), [
      'link-del',
      'link-mtu',
      'rule-del',
      'nft-replace',
    ]);
  });

  it('re-sets rp_filter on a recreated VXLAN device', () => {
    const other = desiredDatapath(self, [far], testConfig('auto', { vxlanVNI: 9 }), underlay);
    const plan = planDatapath(other, kernelOf(desired('auto', [far])));
    assert.ok(plan.some((o) => o.op === 'sysctl' && o.key === rpFilterKey('weft.vxlan') && o.value === '2'));
    assert.ok(plan.some((o) => o.op === 'route-add' && o.table === 87));
  });

  it('writes table-87 routes and the rule as ip -batch lines with the protocol', () => {
    const table: [PlanOp, string][] = [
      [
        { op: 'route-add', route: farReply, table: 87 },
        'route add 192.168.72.3/32 via 10.244.3.0 dev weft.vxlan onlink proto 87 table 87',
      ],
      [
        { op: 'route-del', route: d.routes[0] as RouteState },
        'route del 10.244.2.0/24 via 192.168.71.2 dev eth0 proto 87 table main',
      ],
      [
        { op: 'rule-add', rule: desiredReplyRule('weft0') },
        'rule add pref 1087 iif weft0 fwmark 0x1000/0x1000 lookup 87 proto 87',
      ],
      [
        { op: 'rule-del', rule: desiredReplyRule('weft0') },
        'rule del pref 1087 iif weft0 fwmark 0x1000/0x1000 lookup 87 proto 87',
      ],
    ];
    for (const [op, line] of table) assert.equal(ipBatchLine(op, 87), line);
  });

  it('parses ip -json rule output, a mark without mask meaning all bits', () => {
    const text = JSON.stringify([
      { priority: 0, src: 'all', table: 'local' },
      {
        priority: 1087,
        src: 'all',
        fwmark: '0x1000',
        fwmask: '0x1000',
        iif: 'weft0',
        table: '87',
        protocol: '87',
      },
      { priority: 5, src: 'all', fwmark: '0x4', table: '100' },
    ]);
    assert.deepEqual(parseRules(text), [
      {
        priority: 0,
        iif: undefined,
        fwmark: undefined,
        fwmask: undefined,
        table: 'local',
        protocol: undefined,
      },
      { priority: 1087, iif: 'weft0', fwmark: '0x1000', fwmask: '0x1000', table: '87', protocol: '87' },
      { priority: 5, iif: undefined, fwmark: '0x4', fwmask: '0xffffffff', table: '100', protocol: undefined },
    ]);
  });
});
