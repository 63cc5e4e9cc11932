import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { desiredDatapath } from './desired.js';
import { renderNftReplace } from './nft-ruleset.js';
import { planDatapath } from './plan.js';
import type { DatapathState, DesiredDatapath, NftTableState, UnderlayFacts } from './state.js';
import { testConfig } from './test-fixtures.js';
import type { Backend, DatapathConfig, PeerNode, SelfNode } from './types.js';
import { vtepMac } from './vtep.js';

/**
 * Dual-stack (ADR 18): n1 and n2 share an IPv4 and an IPv6 subnet; n4 shares the IPv4 one but
 * has no IPv6 InternalIP; n3 is on other subnets of both families.
 */
const underlay: UnderlayFacts = {
  iface: 'eth0',
  mtu: 1500,
  subnets: ['192.168.71.0/24'],
  subnets6: ['fd00:71::/64'],
};
const self: SelfNode = {
  name: 'n1',
  underlayIP: '192.168.71.1',
  underlayIP6: 'fd00:71::1',
  podCIDRs: ['10.244.1.0/24', 'fd00:10:244:1::/64'],
};
const key = (n: number) => Buffer.alloc(32, n).toString('base64');
/** Node n<i> with podCIDRs 10.244.<i>.0/24 and fd00:10:244:<i>::/64 and a WireGuard key. */
const peer = (i: number, underlayIP: string, underlayIP6?: string): PeerNode => ({
  name: `n${i}`,
  underlayIP,
  ...(underlayIP6 === undefined ? {} : { underlayIP6 }),
  podCIDRs: [`10.244.${i}.0/24`, `fd00:10:244:${i}::/64`],
  wgPublicKey: key(i),
});
const n2 = peer(2, '192.168.71.2', 'fd00:71::2');
const n3 = peer(3, '192.168.72.3', 'fd00:72::3');
const n4 = peer(4, '192.168.71.4');
const peers = [n2, n3, n4];

const config = (backend: Backend, more: Partial<DatapathConfig> = {}): DatapathConfig =>
  testConfig(backend, { clusterCIDRs: ['10.244.0.0/16', 'fd00:10:244::/56'], ...more });
const desired = (backend: Backend, more: Partial<DatapathConfig> = {}, list = peers) =>
  desiredDatapath(self, list, config(backend, more), underlay);
const routesOf = (d: DesiredDatapath) => d.routes.map((r) => [r.dst, r.gateway, r.dev, r.onlink, r.metric]);
const nftText = (d: DesiredDatapath) => renderNftReplace(d.nft as NftTableState, d.nftRules);

describe('desiredDatapath, dual-stack', () => {
  it('decides the route kind per family: auto direct where the family has a direct path', () => {
    const table: [Backend, Record<string, string>, Record<string, string>][] = [
      ['auto', { n2: 'direct', n3: 'vxlan', n4: 'direct' }, { n2: 'direct', n3: 'vxlan', n4: 'vxlan' }],
      ['vxlan', { n2: 'vxlan', n3: 'vxlan', n4: 'vxlan' }, { n2: 'vxlan', n3: 'vxlan', n4: 'vxlan' }],
      ['hostgw', { n2: 'direct', n4: 'direct' }, { n2: 'direct' }],
      [
        'wireguard',
        { n2: 'wireguard', n3: 'wireguard', n4: 'wireguard' },
        { n2: 'wireguard', n3: 'wireguard', n4: 'wireguard' },
      ],
    ];
    for (const [backend, v4, v6] of table) {
      const d = desired(backend);
      assert.deepEqual(Object.fromEntries(d.peerRoutes), v4, `${backend} IPv4`);
      assert.deepEqual(Object.fromEntries(d.peerRoutes6), v6, `${backend} IPv6`);
    }
    const cross = desired('auto', { encryption: 'crossSubnet' });
    assert.deepEqual(Object.fromEntries(cross.peerRoutes6), {
      n2: 'direct',
      n3: 'wireguard',
      n4: 'wireguard',
    });
  });

  it('auto: IPv6 direct via the peer’s IPv6 InternalIP, else over the IPv4 tunnel with an onlink route, neighbour and the one FDB entry', () => {
    const d = desired('auto');
    assert.deepEqual(routesOf(d), [
      ['10.244.2.0/24', '192.168.71.2', 'eth0', false, 0],
      ['10.244.3.0/24', '10.244.3.0', 'weft.vxlan', true, 0],
      ['10.244.4.0/24', '192.168.71.4', 'eth0', false, 0],
      ['fd00:10:244:2::/64', 'fd00:71::2', 'eth0', false, 1024],
      ['fd00:10:244:3::/64', 'fd00:10:244:3::', 'weft.vxlan', true, 1024],
      ['fd00:10:244:4::/64', 'fd00:10:244:4::', 'weft.vxlan', true, 1024],
    ]);
    assert.deepEqual(d.neighbours, [
      { dev: 'weft.vxlan', ip: '10.244.3.0', mac: vtepMac('192.168.72.3') },
      { dev: 'weft.vxlan', ip: 'fd00:10:244:3::', mac: vtepMac('192.168.72.3') },
      { dev: 'weft.vxlan', ip: 'fd00:10:244:4::', mac: vtepMac('192.168.71.4') },
    ]);
    assert.deepEqual(d.fdb, [
      { dev: 'weft.vxlan', mac: vtepMac('192.168.71.4'), dst: '192.168.71.4' },
      { dev: 'weft.vxlan', mac: vtepMac('192.168.72.3'), dst: '192.168.72.3' },
    ]);
    assert.deepEqual(
      d.replyRoutes.map((r) => r.dst),
      ['192.168.72.3/32'],
      'reply routes (ADR 14) follow the IPv4 route kind only',
    );
    assert.deepEqual(d.bridge?.addresses, ['10.244.1.1/24', 'fd00:10:244:1::1/64']);
    assert.deepEqual(d.vxlan?.addresses, ['10.244.1.0/32', 'fd00:10:244:1::/128']);
    assert.equal(d.vxlan?.mtu, 1450, 'one device, IPv4 outer header');
    assert.equal(d.mtu, 1450);
    assert.deepEqual(d.skipped, []);
  });

  it('hostgw: a peer without a direct IPv6 path keeps its IPv4 route; its IPv6 part is left out with the reason', () => {
    const d = desired('hostgw', {}, [n2, n4, { ...n3, underlayIP: '192.168.71.3' }]);
    assert.deepEqual(routesOf(d), [
      ['10.244.2.0/24', '192.168.71.2', 'eth0', false, 0],
      ['10.244.3.0/24', '192.168.71.3', 'eth0', false, 0],
      ['10.244.4.0/24', '192.168.71.4', 'eth0', false, 0],
      ['fd00:10:244:2::/64', 'fd00:71::2', 'eth0', false, 1024],
    ]);
    assert.deepEqual(
      d.skipped.map((s) => [s.peer, s.family, s.reason]),
      [
        [
          'n3',
          6,
          'IPv6 podCIDRs left out: underlayIP6 not on a directly connected IPv6 subnet of eth0 (backend hostgw has no tunnel for IPv6)',
        ],
        [
          'n4',
          6,
          'IPv6 podCIDRs left out: no IPv6 InternalIP (underlayIP6) (backend hostgw has no tunnel for IPv6)',
        ],
      ],
    );
    assert.equal(d.vxlan, undefined);
    const noIp6 = desiredDatapath({ ...self, underlayIP6: undefined }, [n2], config('hostgw'), underlay);
    assert.match(noIp6.skipped[0]?.reason ?? '', /this node has no IPv6 InternalIP/);
    assert.deepEqual([...noIp6.peerRoutes], [['n2', 'direct']]);
  });

  it('leaves out an IPv6 podCIDR that overlaps another node’s, keeping the peer’s IPv4 routes', () => {
    const clash: PeerNode = { ...n4, podCIDRs: ['10.244.4.0/24', 'fd00:10:244:1::/64'] };
    const d = desired('auto', {}, [clash]);
    assert.deepEqual([...d.peerRoutes], [['n4', 'direct']]);
    assert.deepEqual([...d.peerRoutes6], []);
    assert.deepEqual(d.skipped, [
      {
        peer: 'n4',
        family: 6,
        reason:
          'IPv6 podCIDRs left out: podCIDR fd00:10:244:1::/64 overlaps fd00:10:244:1::/64 of another node',
      },
    ]);
  });

  it('has no IPv6 routes while this node has no IPv6 podCIDR, and refuses a malformed IPv6 address', () => {
    const v4self: SelfNode = { ...self, podCIDRs: ['10.244.1.0/24'] };
    const d = desiredDatapath(v4self, peers, config('auto'), underlay);
    assert.ok(d.routes.every((r) => !r.dst.includes(':')));
    assert.equal(d.peerRoutes6.size, 0);
    assert.deepEqual(d.skipped, []);
    assert.ok(![...d.sysctls.keys()].some((k) => k.includes('ipv6')));
    const bad = desired('auto', {}, [{ ...n2, underlayIP6: '192.168.71.2' }]);
    assert.deepEqual(bad.skipped, [{ peer: 'n2', reason: 'underlayIP6 "192.168.71.2" is not IPv6' }]);
    assert.throws(() => desiredDatapath({ ...self, underlayIP6: 'fd00::zz' }, [], config('auto'), underlay), {
      code: 'EBADSELF',
      message: /self\.underlayIP6/,
    });
    assert.throws(
      () =>
        desiredDatapath(
          { ...self, podCIDRs: ['10.244.1.0/24', 'fd00:10:244:1::1/64'] },
          [],
          config('auto'),
          underlay,
        ),
      { code: 'EBADSELF', message: /self\.podCIDRs/ },
    );
  });

  it('WireGuard: IPv6 podCIDRs are allowed IPs and route into weft.wg; the IPv6 cluster CIDR gets the catch-all', () => {
    const d = desired('wireguard');
    assert.deepEqual(
      d.routes.filter((r) => r.dst.includes(':')).map((r) => [r.dst, r.dev, r.gateway, r.metric]),
      [
        ['fd00:10:244:2::/64', 'weft.wg', '', 1024],
        ['fd00:10:244:3::/64', 'weft.wg', '', 1024],
        ['fd00:10:244:4::/64', 'weft.wg', '', 1024],
        ['fd00:10:244::/56', 'weft.wg', '', 1024],
      ],
    );
    assert.deepEqual(d.wireguard?.peers.find((p) => p.name === 'n3')?.allowedIPs, [
      '10.244.3.0/24',
      '192.168.72.3/32',
      'fd00:10:244:3::/64',
    ]);
    assert.deepEqual(d.wireguard?.addresses, ['10.244.1.0/32'], 'the device keeps IPv4 addresses only');
    const cross = desired('auto', { encryption: 'crossSubnet' });
    assert.deepEqual(
      cross.wireguard?.peers.map((p) => [p.name, p.allowedIPs]),
      [
        ['n3', ['10.244.3.0/24', '192.168.72.3/32', 'fd00:10:244:3::/64']],
        ['n4', ['fd00:10:244:4::/64']],
      ],
      'n4: IPv4 direct, only its IPv6 podCIDR through the tunnel (no node IP: ADR 14 is IPv4)',
    );
    assert.deepEqual(
      cross.replyRoutes.map((r) => r.dst),
      ['192.168.72.3/32'],
    );
    const set = (name: string) => cross.nft?.sets.find((s) => s.name === name);
    assert.deepEqual(set('clear4')?.elements, ['10.244.2.0/24', '10.244.4.0/24']);
    assert.deepEqual(set('clear6'), {
      name: 'clear6',
      type: 'ipv6_addr',
      flags: 'interval',
      elements: ['fd00:10:244:2::/64'],
    });
    assert.equal(
      cross.nftRules.get('weft-clear-guard6 weft.wg,weft0'),
      'ip6 daddr @cluster6 oifname != { "weft.wg", "weft0" } ip6 daddr != @clear6 drop',
    );
    assert.deepEqual(cross.nft?.chains.find((c) => c.name === 'clear-guard')?.rules, [
      'weft-clear-guard weft.wg,weft0',
      'weft-clear-guard6 weft.wg,weft0',
    ]);
  });

  it('crossSubnet: a peer direct for IPv4 whose IPv6 needs the tunnel but has no key loses only its IPv6 part', () => {
    const d = desired('auto', { encryption: 'crossSubnet' }, [{ ...n4, wgPublicKey: undefined }]);
    assert.deepEqual([...d.peerRoutes], [['n4', 'direct']]);
    assert.equal(d.skipped[0]?.family, 6);
    assert.match(d.skipped[0]?.reason ?? '', /^IPv6 podCIDRs left out: no WireGuard public key/);
    assert.deepEqual(d.wireguard?.keyless, [{ peer: 'n4', reason: 'no-key' }]);
    assert.deepEqual(d.wireguard?.peers, []);
  });

  it('nft: cluster6 and nomasq6 sets, ip6 masquerade and forward rules after the IPv4 ones', () => {
    const d = desired('auto', { nonMasqueradeCIDRs: ['192.168.0.0/16', 'FD00:1::/48'] });
    assert.deepEqual(
      d.nft?.sets.map((s) => [s.name, s.type, s.flags, s.elements]),
      [
        ['cluster4', 'ipv4_addr', 'interval', ['10.244.0.0/16']],
        ['cluster6', 'ipv6_addr', 'interval', ['fd00:10:244::/56']],
        ['nomasq4', 'ipv4_addr', 'interval', ['10.244.0.0/16', '192.168.0.0/16']],
        ['nomasq6', 'ipv6_addr', 'interval', ['fd00:10:244::/56', 'fd00:1::/48']],
      ],
    );
    const chain = (name: string) => d.nft?.chains.find((c) => c.name === name)?.rules;
    assert.deepEqual(chain('forward'), [
      'weft-forward-out',
      'weft-forward-in',
      'weft-forward-out6',
      'weft-forward-in6',
    ]);
    assert.deepEqual(chain('postrouting'), ['weft-masquerade', 'weft-masquerade6']);
    const text = nftText(d);
    assert.match(
      text,
      /set cluster6 \{\n {4}type ipv6_addr; flags interval;\n {4}elements = \{ fd00:10:244::\/56 \}/,
    );
    assert.match(
      text,
      / {4}ip saddr @cluster4 ip daddr != @nomasq4 masquerade fully-random comment "weft-masquerade"\n {4}ip6 saddr @cluster6 ip6 daddr != @nomasq6 masquerade fully-random comment "weft-masquerade6"\n/,
    );
    assert.match(text, /ip6 saddr @cluster6 accept comment "weft-forward-out6"/);
    assert.match(text, /ip6 daddr @cluster6 accept comment "weft-forward-in6"/);
    // ADR 14's chains stay IPv4.
    assert.match(text, /ip saddr != @cluster4 ct mark set/);
    const off = desired('auto', { masquerade: false });
    assert.deepEqual(
      off.nft?.sets.map((s) => s.name),
      ['cluster4', 'cluster6'],
    );
    assert.doesNotMatch(nftText(off), /masquerade/);
  });

  it('nft: an IPv4-only node gets the IPv4-only table, byte for byte', () => {
    const v4: SelfNode = { name: 'n1', underlayIP: '192.168.71.1', podCIDRs: ['10.244.1.0/24'] };
    const d = desiredDatapath(v4, [], testConfig('hostgw'), underlay);
    assert.equal(
      nftText(d),
      [
        'table inet weft {}',
        'delete table inet weft',
        'table inet weft {',
        '  set cluster4 {',
        '    type ipv4_addr; flags interval;',
        '    elements = { 10.244.0.0/16 }',
        '  }',
        '  set nomasq4 {',
        '    type ipv4_addr; flags interval;',
        '    elements = { 10.244.0.0/16 }',
        '  }',
        '  chain forward {',
        '    type filter hook forward priority 0; policy accept;',
        '    ip saddr @cluster4 accept comment "weft-forward-out"',
        '    ip daddr @cluster4 accept comment "weft-forward-in"',
        '  }',
        '  chain postrouting {',
        '    type nat hook postrouting priority 100; policy accept;',
        '    ip saddr @cluster4 ip daddr != @nomasq4 masquerade fully-random comment "weft-masquerade"',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('sysctls: IPv6 forwarding with an IPv6 podCIDR, accept_ra=2 on the underlay before it; bridge-nf-call-ip6tables with NetworkPolicy', () => {
    assert.deepEqual(
      [...desired('auto').sysctls],
      [
        ['net.ipv4.ip_forward', '1'],
        ['net/ipv4/conf/weft.vxlan/rp_filter', '2'],
        ['net/ipv6/conf/eth0/accept_ra', '2'],
        ['net.ipv6.conf.all.forwarding', '1'],
      ],
    );
    const policy = desired('hostgw', { networkPolicy: true }).sysctls;
    assert.equal(policy.get('net.bridge.bridge-nf-call-iptables'), '1');
    assert.equal(policy.get('net.bridge.bridge-nf-call-ip6tables'), '1');
  });

  it('plan: an IPv6 route that moves from the underlay into the tunnel is deleted and re-added, not replaced', () => {
    const before = desired('auto', {}, [n2]);
    const after = desired('auto', {}, [{ ...n2, underlayIP6: undefined }]);
    const { bridge, vxlan, routes, replyRoutes, rules, neighbours, fdb, sysctls, nft } = before;
    const kernel: DatapathState = {
      bridge,
      vxlan,
      routes,
      replyRoutes,
      rules,
      neighbours,
      fdb,
      sysctls,
      nft,
    };
    const plan = planDatapath(after, kernel);
    // The kernel refuses an onlink IPv6 gateway that a route through another device covers.
    assert.deepEqual(
      plan.map((o) => [
        o.op,
        'route' in o ? `${o.route.dst} ${o.route.dev}` : 'neigh' in o ? o.neigh.ip : '',
      ]),
      [
        ['route-del', 'fd00:10:244:2::/64 eth0'],
        ['neigh-replace', 'fd00:10:244:2::'],
        ['route-add', 'fd00:10:244:2::/64 weft.vxlan'],
        ['fdb-replace', ''],
      ],
    );
    const back = planDatapath(before, { ...kernel, routes: after.routes });
    assert.deepEqual(
      back.filter((o) => o.op.startsWith('route')).map((o) => o.op),
      ['route-replace'],
      'into the underlay a replace works',
    );
  });
});
