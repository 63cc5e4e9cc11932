import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeMtu, desiredDatapath, selectPeerRoute } from './desired.js';
import { renderNftReplace } from './nft-ruleset.js';
import type { NftTableState, UnderlayFacts } from './state.js';
import { testConfig } from './test-fixtures.js';
import type { Backend, DatapathConfig, PeerNode, SelfNode } from './types.js';
import { bridgeMac, vtepMac } from './vtep.js';

const underlay: UnderlayFacts = { iface: 'eth0', mtu: 1500, subnets: ['192.168.71.0/24'] };
const self: SelfNode = { name: 'n1', underlayIP: '192.168.71.1', podCIDRs: ['10.244.1.0/24'] };
const near: PeerNode = { name: 'n2', underlayIP: '192.168.71.2', podCIDRs: ['10.244.2.0/24'] };
const far: PeerNode = { name: 'n3', underlayIP: '192.168.72.3', podCIDRs: ['10.244.3.0/24'] };

const config = (backend: Backend, more: Partial<DatapathConfig> = {}): DatapathConfig =>
  testConfig(backend, { vxlanVNI: 7, vxlanPort: 4789, ...more });

describe('desiredDatapath', () => {
  it('chooses the route kind per backend and subnet', () => {
    const table: [Backend, string, 'direct' | 'vxlan'][] = [
      ['auto', '192.168.71.9', 'direct'],
      ['auto', '192.168.72.9', 'vxlan'],
      ['vxlan', '192.168.71.9', 'vxlan'],
      ['hostgw', '192.168.71.9', 'direct'],
    ];
    for (const [backend, ip, want] of table) {
      assert.equal(selectPeerRoute(backend, ip, underlay.subnets), want, `${backend} ${ip}`);
    }
    assert.equal(selectPeerRoute('wireguard', '192.168.71.9', underlay.subnets), 'wireguard');
    assert.equal(selectPeerRoute('auto', '192.168.71.9', underlay.subnets, 'crossSubnet'), 'direct');
    assert.equal(selectPeerRoute('auto', '192.168.72.9', underlay.subnets, 'crossSubnet'), 'wireguard');
    assert.equal(selectPeerRoute('auto', '192.168.71.9', underlay.subnets, 'all'), 'wireguard');
  });

  it('computes the MTU: override wins; hostgw full; vxlan and auto minus 50 even with only direct peers', () => {
    const table: [Backend, number | undefined, number][] = [
      ['hostgw', undefined, 1500],
      ['vxlan', undefined, 1450],
      ['auto', undefined, 1450],
      ['auto', 1400, 1400],
      ['hostgw', 9000, 9000],
    ];
    for (const [backend, override, want] of table) assert.equal(computeMtu(backend, 1500, override), want);
    assert.equal(desiredDatapath(self, [near], config('auto'), underlay).mtu, 1450);
    assert.equal(desiredDatapath(self, [near], config('auto'), underlay).bridge?.mtu, 1450);
  });

  it('WireGuard: every peer (backend wireguard) or the far ones (crossSubnet) through weft.wg', () => {
    const key = (n: number) => Buffer.alloc(32, n).toString('base64');
    const keyed = [
      { ...near, wgPublicKey: key(2) },
      { ...far, wgPublicKey: key(3) },
    ];
    const wg = desiredDatapath(self, keyed, config('wireguard'), underlay);
    assert.equal(wg.vxlan, undefined, 'no VXLAN device');
    assert.equal(wg.mtu, 1440, 'underlay − 60');
    assert.deepEqual(wg.routes, [
      { dst: '10.244.0.0/16', gateway: '', dev: 'weft.wg', onlink: false, metric: 0 },
      { dst: '10.244.2.0/24', gateway: '', dev: 'weft.wg', onlink: false, metric: 0 },
      { dst: '10.244.3.0/24', gateway: '', dev: 'weft.wg', onlink: false, metric: 0 },
    ]);
    assert.deepEqual(
      wg.replyRoutes.map((r) => [r.dst, r.dev, r.gateway]),
      [
        ['192.168.71.2/32', 'weft.wg', ''],
        ['192.168.72.3/32', 'weft.wg', ''],
      ],
    );
    assert.equal(wg.sysctls.get('net/ipv4/conf/weft.wg/rp_filter'), '2');
    assert.equal(wg.rules.length, 1, 'the reply rule of ADR 14');
    assert.deepEqual(wg.wireguard, {
      device: 'weft.wg',
      listenPort: 51820,
      underlayMtu: 1500,
      addresses: ['10.244.1.0/32'],
      peers: [
        {
          name: 'n2',
          underlayIP: '192.168.71.2',
          allowedIPs: ['10.244.2.0/24', '192.168.71.2/32'],
          publicKey: key(2),
        },
        {
          name: 'n3',
          underlayIP: '192.168.72.3',
          allowedIPs: ['10.244.3.0/24', '192.168.72.3/32'],
          publicKey: key(3),
        },
      ],
      keyless: [],
    });
    const cross = desiredDatapath(self, keyed, config('auto', { encryption: 'crossSubnet' }), underlay);
    assert.deepEqual(
      [...cross.peerRoutes],
      [
        ['n2', 'direct'],
        ['n3', 'wireguard'],
      ],
    );
    assert.deepEqual(
      cross.wireguard?.peers.map((p) => p.name),
      ['n3'],
    );
    assert.equal(cross.mtu, 1440);
    const clear4 = (d: typeof wg) => d.nft?.sets.find((s) => s.name === 'clear4')?.elements;
    assert.deepEqual(clear4(wg), [], 'backend wireguard: nothing of the cluster in clear');
    assert.deepEqual(clear4(cross), ['10.244.2.0/24'], 'crossSubnet: the direct peer only');
    assert.match(
      cross.nftRules.get('weft-clear-guard weft.wg,weft0') ?? '',
      /^ip daddr @cluster4 oifname != \{ "weft\.wg", "weft0" \} ip daddr != @clear4 drop$/,
    );
    const none = desiredDatapath(self, keyed, config('auto'), underlay);
    assert.equal(none.wireguard, undefined);
    assert.equal(none.routes.filter((r) => r.dev === 'weft.wg').length, 0);
  });

  it('WireGuard leaves out a peer without a usable key; the cluster route still leads into weft.wg', () => {
    const d = desiredDatapath(
      self,
      [near, { ...far, wgPublicKey: 'bm90IGEga2V5' }],
      config('wireguard'),
      underlay,
    );
    assert.deepEqual(
      d.skipped.map((s) => [s.peer, /no WireGuard public key|malformed/.test(s.reason)]),
      [
        ['n2', true],
        ['n3', true],
      ],
    );
    assert.deepEqual(d.wireguard?.peers, []);
    assert.deepEqual(d.wireguard?.keyless, [
      { peer: 'n2', reason: 'no-key' },
      { peer: 'n3', reason: 'bad-key' },
    ]);
    assert.deepEqual(
      d.routes.map((r) => [r.dst, r.dev]),
      [['10.244.0.0/16', 'weft.wg']],
      'nothing of the cluster leaves by the default route in clear',
    );
  });

  it('hostgw: route via the peer underlay IP on the underlay device, no VXLAN device', () => {
    const d = desiredDatapath(self, [near], config('hostgw'), underlay);
    assert.deepEqual(d.routes, [
      { dst: '10.244.2.0/24', gateway: '192.168.71.2', dev: 'eth0', onlink: false, metric: 0 },
    ]);
    assert.equal(d.vxlan, undefined);
    assert.deepEqual(d.neighbours, []);
    assert.deepEqual(d.bridge?.addresses, ['10.244.1.1/24']);
    assert.equal(d.sysctls.get('net.ipv4.ip_forward'), '1');
  });

  it('hostgw leaves out a peer that is not on a connected subnet, with the reason', () => {
    const d = desiredDatapath(self, [near, far], config('hostgw'), underlay);
    assert.deepEqual(
      d.routes.map((r) => r.dst),
      ['10.244.2.0/24'],
    );
    assert.equal(d.skipped[0]?.peer, 'n3');
    assert.match(d.skipped[0]?.reason ?? '', /directly connected/);
  });

  it('vxlan: onlink route via the .0 gateway, permanent neighbour, FDB entry, device from config', () => {
    const d = desiredDatapath(self, [far], config('vxlan'), underlay);
    assert.deepEqual(d.routes, [
      { dst: '10.244.3.0/24', gateway: '10.244.3.0', dev: 'weft.vxlan', onlink: true, metric: 0 },
    ]);
    assert.deepEqual(d.neighbours, [{ dev: 'weft.vxlan', ip: '10.244.3.0', mac: '02:57:c0:a8:48:03' }]);
    assert.deepEqual(d.fdb, [{ dev: 'weft.vxlan', mac: '02:57:c0:a8:48:03', dst: '192.168.72.3' }]);
    assert.deepEqual(
      { ...d.vxlan },
      {
        name: 'weft.vxlan',
        kind: 'vxlan',
        vni: 7,
        port: 4789,
        local: '192.168.71.1',
        dev: 'eth0',
        mac: '02:57:c0:a8:47:01',
        learning: false,
        mtu: 1450,
        up: true,
        addresses: ['10.244.1.0/32'],
      },
    );
  });

  it('auto: direct for the same subnet, VXLAN for the other', () => {
    const d = desiredDatapath(self, [far, near], config('auto'), underlay);
    assert.deepEqual(
      [...d.peerRoutes],
      [
        ['n2', 'direct'],
        ['n3', 'vxlan'],
      ],
    );
    assert.deepEqual(
      d.routes.map((r) => [r.dst, r.dev]),
      [
        ['10.244.2.0/24', 'eth0'],
        ['10.244.3.0/24', 'weft.vxlan'],
      ],
    );
    assert.equal(d.fdb.length, 1);
  });

  it('derives a stable, locally administered unicast VTEP MAC from the underlay IP', () => {
    assert.equal(vtepMac('10.0.0.1'), '02:57:0a:00:00:01');
    assert.equal(vtepMac('192.168.72.3'), vtepMac('192.168.72.3'));
    const first = Number.parseInt(vtepMac('255.255.255.255').slice(0, 2), 16);
    assert.equal(first & 0x02, 0x02, 'locally administered');
    assert.equal(first & 0x01, 0, 'unicast');
  });

  it('derives a bridge MAC from the underlay IP, locally administered, unicast, never the VTEP MAC', () => {
    assert.equal(bridgeMac('10.0.0.1'), '0a:57:0a:00:00:01');
    const first = Number.parseInt(bridgeMac('255.255.255.255').slice(0, 2), 16);
    assert.equal(first & 0x02, 0x02, 'locally administered');
    assert.equal(first & 0x01, 0, 'unicast');
    assert.notEqual(bridgeMac('192.168.72.3'), vtepMac('192.168.72.3'));
    const d = desiredDatapath(self, [], config('auto'), underlay);
    assert.equal(d.bridge?.mac, bridgeMac(self.underlayIP));
  });

  it('masquerade on: nomasq set holds cluster and extra CIDRs; off: no postrouting chain', () => {
    const on = desiredDatapath(
      self,
      [],
      config('auto', { nonMasqueradeCIDRs: ['192.168.0.0/16'] }),
      underlay,
    );
    assert.deepEqual(
      on.nft?.sets.map((s) => [s.name, s.elements]),
      [
        ['cluster4', ['10.244.0.0/16']],
        ['nomasq4', ['10.244.0.0/16', '192.168.0.0/16']],
      ],
    );
    assert.match(renderNftReplace(on.nft as NftTableState, on.nftRules), /masquerade fully-random/);
    const off = desiredDatapath(self, [], config('auto', { masquerade: false }), underlay);
    assert.deepEqual(
      off.nft?.chains.map((c) => c.name),
      ['forward', 'node-snat', 'tunnel-reply'],
    );
    assert.doesNotMatch(renderNftReplace(off.nft as NftTableState, off.nftRules), /masquerade/);
  });

  it('skips bad or overlapping peers and ignores itself and IPv6 CIDRs', () => {
    const peers: PeerNode[] = [
      self,
      { name: 'bad-ip', underlayIP: 'x', podCIDRs: ['10.244.4.0/24'] },
      { name: 'dup', underlayIP: '192.168.71.5', podCIDRs: ['10.244.1.0/24'] },
      { name: 'none', underlayIP: '192.168.71.6', podCIDRs: [] },
      { name: 'v6', underlayIP: '192.168.71.7', podCIDRs: ['10.244.7.0/24', 'fd00::/64'] },
    ];
    const d = desiredDatapath(self, peers, config('auto'), underlay);
    assert.deepEqual(
      d.skipped.map((s) => s.peer),
      ['bad-ip', 'dup', 'none'],
    );
    assert.deepEqual(
      d.routes.map((r) => r.dst),
      ['10.244.7.0/24'],
    );
  });

  it('gives a podCIDR claimed twice to the first peer by name, also when one contains the other', () => {
    const peers: PeerNode[] = [
      { name: 'b', underlayIP: '192.168.71.12', podCIDRs: ['10.244.2.0/24'] },
      { name: 'a', underlayIP: '192.168.71.11', podCIDRs: ['10.244.2.0/24'] },
      { name: 'c', underlayIP: '192.168.71.13', podCIDRs: ['10.244.0.0/16'] },
      { name: 'd', underlayIP: '192.168.71.14', podCIDRs: ['10.244.2.128/25'] },
    ];
    const d = desiredDatapath(self, peers, config('auto'), underlay);
    assert.deepEqual([...d.peerRoutes.keys()], ['a']);
    assert.deepEqual(
      d.skipped.map((s) => s.peer),
      ['b', 'c', 'd'],
    );
    assert.match(d.skipped[1]?.reason ?? '', /10\.244\.0\.0\/16 overlaps/);
  });

  it('refuses an own node without podCIDR or with a bad underlay IP, naming the field', () => {
    assert.throws(() => desiredDatapath({ ...self, podCIDRs: [] }, [], config('auto'), underlay), {
      code: 'ENOPODCIDR',
    });
    assert.throws(
      () => desiredDatapath({ ...self, underlayIP: '1.2.3' }, [], config('auto'), underlay),
      /self\.underlayIP/,
    );
    assert.throws(
      () => desiredDatapath({ ...self, podCIDRs: ['10.244.1.5/24'] }, [], config('auto'), underlay),
      /self\.podCIDRs/,
    );
  });
});
