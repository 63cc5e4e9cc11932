import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { desiredWireguard } from '../wireguard/desired.js';
import { computeMtu, desiredDatapath } from './desired.js';
import { IncrementalDesired } from './desired-incremental.js';
import { renderNftReplace } from './nft-ruleset.js';
import type { DesiredDatapath, NftTableState, UnderlayFacts } from './state.js';
import { testConfig } from './test-fixtures.js';
import type { Backend, DatapathConfig, PeerNode, SelfNode } from './types.js';
import { bridgeMac, underlayWord, vtepMac } from './vtep.js';

/**
 * IPv6-only nodes (ADR 19): underlayIP is the IPv6 InternalIP, podCIDRs are IPv6 only. n1 and
 * n2 share fd00:71::/64; n3 is on fd00:72::/64 behind a router; n9 has an IPv4 underlay.
 */
const underlay: UnderlayFacts = { iface: 'eth0', mtu: 1500, subnets: [], subnets6: ['fd00:71::/64'] };
const node = (i: number, ip: string): PeerNode => ({
  name: `n${i}`,
  underlayIP: ip,
  underlayIP6: ip,
  podCIDRs: [`fd00:10:244:${i}::/64`],
  wgPublicKey: Buffer.alloc(32, i).toString('base64'),
});
const self: SelfNode = node(1, 'fd00:71::1');
const n2 = node(2, 'fd00:71::2');
const n3 = node(3, 'fd00:72::3');
const n9: PeerNode = { name: 'n9', underlayIP: '192.168.71.9', podCIDRs: ['10.244.9.0/24'] };
const config = (backend: Backend, more: Partial<DatapathConfig> = {}) =>
  testConfig(backend, { clusterCIDRs: ['fd00:10:244::/56'], ...more });
const desired = (backend: Backend, peers: PeerNode[] = [n2, n3], more: Partial<DatapathConfig> = {}) =>
  desiredDatapath(self, peers, config(backend, more), underlay);
const routesOf = (d: DesiredDatapath) => d.routes.map((r) => [r.dst, r.gateway, r.dev, r.onlink]);
const nftText = (d: DesiredDatapath) => renderNftReplace(d.nft as NftTableState, d.nftRules);

describe('VTEP and bridge MACs of an IPv6 underlay address', () => {
  it('folds the four 32-bit words by XOR, whatever the spelling', () => {
    const table: [string, number, string][] = [
      ['fd00:71::1', 0xfd000070, '02:57:fd:00:00:70'],
      ['fd00:72::3', 0xfd000071, '02:57:fd:00:00:71'],
      ['FD00:0071:0000:0000:0000:0000:0000:0001', 0xfd000070, '02:57:fd:00:00:70'],
      ['2001:db8::1', 0x20010db9, '02:57:20:01:0d:b9'],
      ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe', 1, '02:57:00:00:00:01'],
      ['10.0.0.1', 0x0a000001, '02:57:0a:00:00:01'],
    ];
    for (const [ip, word, mac] of table) {
      assert.equal(underlayWord(ip), word, ip);
      assert.equal(vtepMac(ip), mac, ip);
      assert.equal(bridgeMac(ip), `0a${mac.slice(2)}`, ip);
    }
    // The fold is not injective: these two share a MAC (see the clash test below).
    assert.equal(vtepMac('fd00:70::'), vtepMac('fd00:71::1'));
  });
});

describe('computeMtu per underlay family', () => {
  it('subtracts 70 for VXLAN and 80 for WireGuard over IPv6; hostgw and an override as before', () => {
    const table: [Backend, DatapathConfig['encryption'], number | undefined, 4 | 6, number][] = [
      ['auto', 'none', undefined, 6, 1430],
      ['vxlan', 'none', undefined, 6, 1430],
      ['hostgw', 'none', undefined, 6, 1500],
      ['wireguard', 'all', undefined, 6, 1420],
      ['auto', 'crossSubnet', undefined, 6, 1420],
      ['auto', 'none', 1400, 6, 1400],
      ['auto', 'none', undefined, 4, 1450],
      ['wireguard', 'all', undefined, 4, 1440],
    ];
    for (const [backend, enc, override, family, want] of table)
      assert.equal(computeMtu(backend, 1500, override, enc, family), want, `${backend} ${enc} ${family}`);
  });
});

describe('desiredDatapath on an IPv6-only node', () => {
  it('decides the IPv6 route kind per peer; IPv4 peerRoutes stay empty; a peer of the other family is left out', () => {
    const table: [Backend, Record<string, string>, string[]][] = [
      ['auto', { n2: 'direct', n3: 'vxlan' }, ['n9']],
      ['vxlan', { n2: 'vxlan', n3: 'vxlan' }, ['n9']],
      ['hostgw', { n2: 'direct' }, ['n3', 'n9']],
      ['wireguard', { n2: 'wireguard', n3: 'wireguard' }, ['n9']],
    ];
    for (const [backend, want, skipped] of table) {
      const d = desired(backend, [n2, n3, n9]);
      assert.deepEqual(Object.fromEntries(d.peerRoutes6), want, backend);
      assert.deepEqual(d.peerRoutes.size, 0, backend);
      assert.deepEqual(
        d.skipped.map((s) => s.peer),
        skipped,
        backend,
      );
      assert.ok(d.skipped.every((s) => s.family === undefined));
    }
    const d = desired('hostgw', [n2, n3, n9]);
    assert.match(d.skipped[0]?.reason ?? '', /not on a directly connected IPv6 subnet of eth0/);
    assert.match(d.skipped[1]?.reason ?? '', /underlay family differs: its underlayIP is IPv4, ours IPv6/);
  });

  it('auto: direct via the peer’s IPv6 address, else VXLAN over IPv6 (local, FDB dst, MTU − 70)', () => {
    const d = desired('auto');
    assert.deepEqual(routesOf(d), [
      ['fd00:10:244:2::/64', 'fd00:71::2', 'eth0', false],
      ['fd00:10:244:3::/64', 'fd00:10:244:3::', 'weft.vxlan', true],
    ]);
    assert.ok(d.routes.every((r) => r.metric === 1024));
    assert.deepEqual(d.neighbours, [{ dev: 'weft.vxlan', ip: 'fd00:10:244:3::', mac: '02:57:fd:00:00:71' }]);
    assert.deepEqual(d.fdb, [{ dev: 'weft.vxlan', mac: '02:57:fd:00:00:71', dst: 'fd00:72::3' }]);
    assert.deepEqual(
      { local: d.vxlan?.local, mac: d.vxlan?.mac, mtu: d.vxlan?.mtu, addresses: d.vxlan?.addresses },
      { local: 'fd00:71::1', mac: '02:57:fd:00:00:70', mtu: 1430, addresses: ['fd00:10:244:1::/128'] },
    );
    assert.deepEqual(
      { mac: d.bridge?.mac, mtu: d.bridge?.mtu, addresses: d.bridge?.addresses },
      { mac: '0a:57:fd:00:00:70', mtu: 1430, addresses: ['fd00:10:244:1::1/64'] },
    );
    assert.equal(d.mtu, 1430);
  });

  it('has no IPv4 part: no ADR 14 reply rule, routes or rp_filter, no IPv4 forwarding; IPv6 forwarding', () => {
    for (const backend of ['auto', 'vxlan', 'wireguard'] as const) {
      const d = desired(backend);
      assert.deepEqual(d.rules, [], backend);
      assert.deepEqual(d.replyRoutes, [], backend);
      assert.deepEqual(
        [...d.sysctls],
        [
          ['net/ipv6/conf/eth0/accept_ra', '2'],
          ['net.ipv6.conf.all.forwarding', '1'],
        ],
        backend,
      );
    }
    const policy = desired('auto', [n2], { networkPolicy: true });
    assert.deepEqual([...policy.sysctls.keys()].slice(0, 2), [
      'net.bridge.bridge-nf-call-iptables',
      'net.bridge.bridge-nf-call-ip6tables',
    ]);
  });

  it('a non-canonical underlay address still gives canonical local, FDB dst and MAC', () => {
    const loud = { ...self, underlayIP: 'FD00:71:0::1', underlayIP6: 'fd00:71::1' };
    const far = { ...n3, underlayIP: 'fd00:72:0:0::3', underlayIP6: 'FD00:72::3' };
    const d = desiredDatapath(loud, [far], config('vxlan'), underlay);
    assert.equal(d.vxlan?.local, 'fd00:71::1');
    assert.deepEqual(d.fdb, [{ dev: 'weft.vxlan', mac: '02:57:fd:00:00:71', dst: 'fd00:72::3' }]);
  });

  it('leaves out the later of two VXLAN peers whose MACs fold alike, and one that folds to ours; direct peers need no MAC', () => {
    const n4 = node(4, 'fd00:73::2'); // folds to fd000071, as n3 does
    const n5 = node(5, 'fd00:70::'); // folds to fd000070, as this node does
    const d = desired('vxlan', [n3, n4, n5]);
    assert.deepEqual(Object.fromEntries(d.peerRoutes6), { n3: 'vxlan' });
    assert.deepEqual(
      d.skipped.map((s) => [s.peer, s.reason]),
      [
        [
          'n4',
          'VTEP MAC 02:57:fd:00:00:71 folded from underlayIP fd00:73::2 collides with node n3 (fd00:72::3); ADR 19',
        ],
        [
          'n5',
          'VTEP MAC 02:57:fd:00:00:70 folded from underlayIP fd00:70:: collides with this node (fd00:71::1); ADR 19',
        ],
      ],
    );
    const n6 = node(6, 'fd00:71::1:0:0'); // on our subnet, folds to our MAC
    assert.equal(vtepMac(n6.underlayIP), vtepMac(self.underlayIP));
    const direct = desiredDatapath(self, [n6], config('auto'), underlay);
    assert.deepEqual(Object.fromEntries(direct.peerRoutes6), { n6: 'direct' });
    assert.deepEqual(direct.skipped, []);
  });

  it('refuses an unusable self: an IPv4 podCIDR, no IPv6 podCIDR yet, a differing underlayIP6', () => {
    const table: [Partial<SelfNode>, RegExp][] = [
      [{ podCIDRs: ['10.244.1.0/24', 'fd00:10:244:1::/64'] }, /EBADSELF|IPv4 podCIDR on a node with an IPv6/],
      [{ podCIDRs: [] }, /no IPv6 podCIDR yet/],
      [{ underlayIP6: 'fd00:71::9' }, /underlayIP6: differs from the IPv6 underlayIP fd00:71::1/],
      [{ underlayIP: 'fd00:71::zz' }, /self.underlayIP: not an IPv6 address/],
    ];
    for (const [change, want] of table)
      assert.throws(() => desiredDatapath({ ...self, ...change }, [n2], config('auto'), underlay), want);
  });

  it('an IPv4-underlay node leaves out an IPv6-only peer (mixed clusters are not supported)', () => {
    const v4self: SelfNode = { name: 'n8', underlayIP: '192.168.71.8', podCIDRs: ['10.244.8.0/24'] };
    const v4underlay = { iface: 'eth0', mtu: 1500, subnets: ['192.168.71.0/24'] };
    const d = desiredDatapath(v4self, [n2, n9], testConfig('auto'), v4underlay);
    assert.deepEqual(Object.fromEntries(d.peerRoutes), { n9: 'direct' });
    assert.deepEqual(
      d.skipped.map((s) => [s.peer, s.reason]),
      [
        [
          'n2',
          'underlay family differs: its underlayIP is IPv6, ours IPv4 (IPv6-only and IPv4-underlay nodes in one cluster are not supported)',
        ],
      ],
    );
  });

  it('patches its last result as a full computation would, peer by peer', () => {
    const inc = new IncrementalDesired();
    const cfg = config('auto');
    const lists = [[n2], [n2, n3], [n3], [n3, node(4, 'fd00:73::2')], [n2, n3]];
    for (const list of lists) {
      const got = inc.compute(self, list, cfg, underlay);
      assert.deepEqual(got, desiredDatapath(self, list, cfg, underlay), list.map((p) => p.name).join(','));
    }
    assert.ok(inc.patchedCount >= 2, `patched ${inc.patchedCount}`);
  });
});

describe('table inet weft on an IPv6-only node', () => {
  it('has only the IPv6 sets and rules', () => {
    assert.equal(
      nftText(desired('auto')),
      `table inet weft {}
delete table inet weft
table inet weft {
  set cluster6 {
    type ipv6_addr; flags interval;
    elements = { fd00:10:244::/56 }
  }
  set nomasq6 {
    type ipv6_addr; flags interval;
    elements = { fd00:10:244::/56 }
  }
  chain forward {
    type filter hook forward priority 0; policy accept;
    ip6 saddr @cluster6 accept comment "weft-forward-out6"
    ip6 daddr @cluster6 accept comment "weft-forward-in6"
  }
  chain postrouting {
    type nat hook postrouting priority 100; policy accept;
    ip6 saddr @cluster6 ip6 daddr != @nomasq6 masquerade fully-random comment "weft-masquerade6"
  }
}
`,
    );
    const off = nftText(desired('auto', [n2, n3], { masquerade: false, nonMasqueradeCIDRs: ['10.0.0.0/8'] }));
    assert.ok(!off.includes('postrouting') && !off.includes('ip saddr'), off);
    assert.ok(!nftText(desired('auto', [n2], { nonMasqueradeCIDRs: ['10.0.0.0/8'] })).includes('10.0.0.0'));
  });

  it('with NetworkPolicy: the IPv6 dispatch after the (empty) IPv4 maps, in ADR 12’s order', () => {
    const d = desired('auto', [n2], { networkPolicy: true });
    assert.deepEqual(
      d.nft?.maps.map((m) => m.name),
      ['pol_egress', 'pol_egress6', 'pol_ingress', 'pol_ingress6'],
    );
    const forward = d.nft?.chains.find((c) => c.name === 'forward')?.rules ?? [];
    // The IPv4 dispatch first (ADR 12's order), the IPv6 one after it, then the IPv6 forward rules alone.
    assert.equal(forward.indexOf('weft-policy-ingress') + 1, forward.indexOf('weft-policy-nd'));
    assert.deepEqual(forward.slice(-3), ['weft-policy-ingress6', 'weft-forward-out6', 'weft-forward-in6']);
    assert.ok(!forward.includes('weft-forward-out'));
    assert.deepEqual(
      d.nft?.sets.map((s) => s.name),
      ['cluster6', 'nomasq6'],
    );
  });

  it('with WireGuard: the IPv6 clear-guard alone, and the device over IPv6 ([addr]:port, MTU − 80)', () => {
    const d = desired('auto', [n2, n3], { encryption: 'crossSubnet' });
    const text = nftText(d);
    assert.ok(!/\bclear4\b|weft-clear-guard /.test(text), text);
    assert.match(text, /ip6 daddr @cluster6 oifname != \{ "weft.wg", "weft0" \} ip6 daddr != @clear6 drop/);
    assert.match(
      text,
      /set clear6 \{\n {4}type ipv6_addr; flags interval;\n {4}elements = \{ fd00:10:244:2::\/64 \}/,
    );
    const wg = d.wireguard;
    assert.equal(wg?.underlayFamily, 6);
    assert.deepEqual(wg?.addresses, []);
    const { keyless: _, ...input } = wg ?? { keyless: [] };
    const result = desiredWireguard({ ...(input as Parameters<typeof desiredWireguard>[0]), publicKey: 'x' });
    assert.equal(result.desired.link.mtu, 1420);
    assert.deepEqual(
      result.desired.config.peers.map((p) => [p.endpoint, p.allowedIPs]),
      [['[fd00:72::3]:51820', ['fd00:10:244:3::/64']]],
    );
  });
});
