import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeWgMtu, desiredWireguard, type WgPeerInput } from './desired.js';
import { planWireguard, type WgPlanOp, wgSetArgs } from './plan.js';
import type { DesiredWireguard, ObservedWireguard, WgObservedPeer } from './state.js';

const OWN = 'HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=';
const K2 = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
const K3 = 'TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=';
const K2NEW = 'gN65BkIKy1eCE9pP1wdc8ROUtkHLF2PfAqYdyYBz6EA=';
const n2: WgPeerInput = {
  name: 'n2',
  underlayIP: '192.168.71.2',
  allowedIPs: ['10.244.2.0/24'],
  publicKey: K2,
};
const n3: WgPeerInput = {
  name: 'n3',
  underlayIP: '192.168.72.3',
  allowedIPs: ['10.244.3.0/24'],
  publicKey: K3,
};

const desired = (peers: WgPeerInput[]) =>
  desiredWireguard({
    device: 'weft.wg',
    listenPort: 51820,
    underlayMtu: 1500,
    underlayFamily: 4,
    addresses: [],
    publicKey: OWN,
    peers,
  });

/** The device exactly as desired, as observe would read it. */
function observedOf(d: DesiredWireguard): ObservedWireguard {
  const peers: WgObservedPeer[] = d.config.peers.map((p) => ({
    ...p,
    latestHandshake: 0,
    rxBytes: 0,
    txBytes: 0,
  }));
  return { link: d.link, config: { ...d.config, peers } };
}
const ops = (plan: WgPlanOp[]) =>
  plan.map((o) =>
    o.op.startsWith('peer')
      ? `${o.op} ${'peer' in o ? o.peer.publicKey : 'publicKey' in o ? o.publicKey : ''}`
      : o.op,
  );

describe('desiredWireguard', () => {
  it('MTU = underlay − 60 over IPv4, − 80 over IPv6', () => {
    assert.equal(computeWgMtu(1500, 4), 1440);
    assert.equal(computeWgMtu(1500, 6), 1420);
    assert.equal(computeWgMtu(9001, 4), 8941);
    assert.equal(desired([]).desired.link.mtu, 1440);
  });

  it('one peer per node with a key: endpoint = underlay IP and port, allowed IPs = its podCIDRs', () => {
    const { desired: d, skipped } = desired([
      n3,
      n2,
      { ...n2, name: 'n6', underlayIP: 'fd00::6', publicKey: 'x' },
    ]);
    assert.deepEqual(d.config.peers, [
      {
        publicKey: K3,
        endpoint: '192.168.72.3:51820',
        allowedIPs: ['10.244.3.0/24'],
        persistentKeepalive: 25,
      },
      {
        publicKey: K2,
        endpoint: '192.168.71.2:51820',
        allowedIPs: ['10.244.2.0/24'],
        persistentKeepalive: 25,
      },
    ]);
    assert.deepEqual(skipped, [{ peer: 'n6', reason: 'bad-key' }]);
  });

  const skips: [string, WgPeerInput[], [string, string][]][] = [
    [
      'a peer without a key is left out, never reached in clear',
      [n2, { ...n3, publicKey: undefined }],
      [['n3', 'no-key']],
    ],
    ['a peer claiming our key', [{ ...n2, publicKey: OWN }], [['n2', 'own-key']]],
    [
      'two peers with one key: neither',
      [n2, { ...n3, publicKey: K2 }],
      [
        ['n2', 'duplicate-key'],
        ['n3', 'duplicate-key'],
      ],
    ],
    ['an endpoint that is no IP', [{ ...n2, underlayIP: 'node-2' }], [['n2', 'bad-endpoint']]],
  ];
  for (const [name, peers, want] of skips) {
    it(name, () => {
      const { desired: d, skipped } = desired(peers);
      assert.deepEqual(
        skipped.map((s) => [s.peer, s.reason]),
        want,
      );
      for (const [peer] of want)
        assert.ok(
          !d.config.peers.some((p) =>
            p.endpoint?.startsWith(peers.find((q) => q.name === peer)?.underlayIP ?? '?'),
          ),
        );
    });
  }

  it('persistent keepalive: 25 s unless configured, 0 = off', () => {
    const off = desiredWireguard({
      device: 'weft.wg',
      listenPort: 1,
      underlayMtu: 1500,
      underlayFamily: 4,
      addresses: [],
      publicKey: OWN,
      peers: [n2],
      persistentKeepalive: 0,
    });
    assert.equal(off.desired.config.peers[0]?.persistentKeepalive, undefined);
    assert.equal(desired([n2]).desired.config.peers[0]?.persistentKeepalive, 25);
  });

  it('IPv6 endpoints are bracketed; a peer port overrides the own', () => {
    const { desired: d } = desired([{ ...n2, underlayIP: 'FD00::2', listenPort: 5000 }]);
    assert.equal(d.config.peers[0]?.endpoint, '[fd00::2]:5000');
  });
});

describe('planWireguard', () => {
  const two = desired([n2, n3]).desired;
  const table: [string, DesiredWireguard, ObservedWireguard, string[]][] = [
    [
      'no device: create, MTU, up, key, port, every peer',
      two,
      { link: undefined, config: undefined },
      ['device-add', 'link-mtu', 'link-up', 'private-key', 'listen-port', `peer-set ${K3}`, `peer-set ${K2}`],
    ],
    ['as desired: nothing', two, observedOf(two), []],
    [
      'device down with another MTU',
      two,
      { ...observedOf(two), link: { name: 'weft.wg', mtu: 1420, up: false, addresses: [] } },
      ['link-mtu', 'link-up'],
    ],
    [
      'device without key (fresh userspace device)',
      two,
      { ...observedOf(two), config: { publicKey: undefined, listenPort: 0, peers: [] } },
      ['private-key', 'listen-port', `peer-set ${K3}`, `peer-set ${K2}`],
    ],
    ['a peer gone: removed', desired([n2]).desired, observedOf(two), [`peer-remove ${K3}`]],
    [
      'a peer moved',
      desired([n2, { ...n3, underlayIP: '192.168.72.9' }]).desired,
      observedOf(two),
      [`peer-set ${K3}`],
    ],
    [
      'a peer’s podCIDRs changed',
      desired([n2, { ...n3, allowedIPs: ['10.244.3.0/24', '10.244.9.0/24'] }]).desired,
      observedOf(two),
      [`peer-set ${K3}`],
    ],
    [
      'a peer’s key rotated: old removed before new set',
      desired([{ ...n2, publicKey: K2NEW }, n3]).desired,
      observedOf(two),
      [`peer-remove ${K2}`, `peer-set ${K2NEW}`],
    ],
    [
      'a stranger peer (not Weft’s) is removed',
      desired([n2]).desired,
      observedOf(desired([n2, { ...n3, name: 'x' }]).desired),
      [`peer-remove ${K3}`],
    ],
  ];
  for (const [name, want, have, expected] of table) {
    it(name, () => assert.deepEqual(ops(planWireguard(want, have)), expected));
  }

  it('own key changed (rotation): only the private key is set', () => {
    const rotated = { ...two, config: { ...two.config, publicKey: K2NEW } };
    assert.deepEqual(ops(planWireguard(rotated, observedOf(two))), ['private-key']);
  });

  it('allowed IPs compare as sets', () => {
    const d = desired([{ ...n2, allowedIPs: ['10.244.9.0/24', '10.244.2.0/24'] }]).desired;
    const o = observedOf(d);
    const shuffled = {
      ...o,
      config: o.config && {
        ...o.config,
        peers: o.config.peers.map((p) => ({ ...p, allowedIPs: [...p.allowedIPs].reverse() })),
      },
    };
    assert.deepEqual(planWireguard(d, shuffled), []);
  });
});

describe('wgSetArgs', () => {
  it('one `wg set`: key from stdin, port, removals, peers; never a key on the command line', () => {
    const plan = planWireguard(
      desired([{ ...n2, publicKey: K2NEW }]).desired,
      observedOf(desired([n2]).desired),
    );
    assert.deepEqual(
      wgSetArgs('weft.wg', [{ op: 'private-key' }, { op: 'listen-port', port: 51820 }, ...plan]),
      [
        'set',
        'weft.wg',
        'private-key',
        '/dev/stdin',
        'listen-port',
        '51820',
        'peer',
        K2,
        'remove',
        'peer',
        K2NEW,
        'endpoint',
        '192.168.71.2:51820',
        'persistent-keepalive',
        '25',
        'allowed-ips',
        '10.244.2.0/24',
      ],
    );
    assert.equal(wgSetArgs('weft.wg', [{ op: 'link-up', name: 'weft.wg' }]), undefined);
  });
});
