import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { desiredDatapath } from './desired.js';
import { IncrementalDesired } from './desired-incremental.js';
import type { UnderlayFacts } from './state.js';
import { lcg, testConfig } from './test-fixtures.js';
import type { Backend, PeerNode, SelfNode } from './types.js';

const underlay: UnderlayFacts = { iface: 'eth0', mtu: 1500, subnets: ['192.168.71.0/24'] };
const self: SelfNode = { name: 'n000', underlayIP: '192.168.71.1', podCIDRs: ['10.244.0.0/24'] };
const config = (backend: Backend) => testConfig(backend);

/**
 * Mostly well-formed peers (podCIDR and underlay IP follow the name), with now
 * and then a shared underlay IP, a second podCIDR, an overlap, our own name or
 * underlay IP, or no IPv4 podCIDR — each of which must give desired()'s result.
 */
function randomPeer(rand: () => number, farShare: number, keyless: number): PeerNode {
  const i = 1 + Math.floor(rand() * 150);
  const r = rand();
  const subnet = rand() < farShare ? '192.168.72' : '192.168.71';
  let underlayIP = `${subnet}.${i + 1}`;
  let podCIDRs = [`10.244.${i}.0/24`];
  let name = `n${String(i).padStart(3, '0')}`;
  if (r < 0.05) underlayIP = `${subnet}.${2 + Math.floor(rand() * 3)}`;
  else if (r < 0.08) podCIDRs = [...podCIDRs, `10.245.${i}.0/25`];
  else if (r < 0.085) podCIDRs = [`10.244.${1 + Math.floor(rand() * 150)}.0/24`];
  else if (r < 0.09) name = self.name;
  else if (r < 0.093) underlayIP = self.underlayIP;
  else if (r < 0.096) podCIDRs = ['fd00::/64'];
  // A WireGuard key per node, now and then a rotated one, none or a malformed one.
  const k = rand();
  const wgPublicKey =
    k < keyless / 2
      ? undefined
      : k < keyless
        ? 'not-a-key'
        : Buffer.alloc(32, k < 0.2 ? i + 1 : i).toString('base64');
  return { name, underlayIP, podCIDRs, wgPublicKey };
}

/**
 * randomPeer made dual-stack: mostly an IPv6 podCIDR that follows the name, an IPv6 InternalIP
 * on this node's IPv6 subnet, another one or none; now and then no IPv6 podCIDR, an IPv6
 * podCIDR that overlaps another's or ours, our own IPv6 InternalIP, a malformed one, or two.
 */
function randomDualPeer(rand: () => number, farShare: number, keyless: number): PeerNode {
  const p = randomPeer(rand, farShare, keyless);
  const i = Number(p.name.slice(1));
  const r = rand();
  const hex = i.toString(16);
  let podCIDRs = [...p.podCIDRs, `fd00:10:244:${hex}::/64`];
  const at = rand();
  let underlayIP6: string | undefined =
    at < 0.4 ? `fd00:71::${hex}` : at < 0.7 ? `fd00:72::${hex}` : undefined;
  if (r < 0.03) podCIDRs = [...p.podCIDRs];
  else if (r < 0.04)
    podCIDRs = [...p.podCIDRs, `fd00:10:244:${(1 + Math.floor(rand() * 150)).toString(16)}::/64`];
  else if (r < 0.045) podCIDRs = [...p.podCIDRs, 'fd00:10:244::/64'];
  else if (r < 0.05) underlayIP6 = dualSelf.underlayIP6;
  else if (r < 0.052) underlayIP6 = '192.168.71.9';
  else if (r < 0.06) podCIDRs = [...podCIDRs, `fd00:10:245:${hex}::/64`];
  return { ...p, podCIDRs, underlayIP6 };
}

const dualSelf: SelfNode = {
  name: 'n000',
  underlayIP: '192.168.71.1',
  underlayIP6: 'fd00:71::1',
  podCIDRs: ['10.244.0.0/24', 'fd00:10:244::/64'],
};
const dualUnderlay: UnderlayFacts = { ...underlay, subnets6: ['fd00:71::/64'] };

function mutate(
  peers: readonly PeerNode[],
  rand: () => number,
  farShare: number,
  keyless: number,
  make = randomPeer,
): PeerNode[] {
  const byName = new Map(peers.map((p) => [p.name, p]));
  const steps = rand() < 0.1 ? 80 : 1 + Math.floor(rand() * 3);
  for (let s = 0; s < steps; s++) {
    if (rand() < 0.45 && byName.size > 0)
      byName.delete([...byName.keys()][Math.floor(rand() * byName.size)] ?? '');
    else {
      const p = make(rand, farShare, keyless);
      byName.set(p.name, p);
    }
  }
  const list = [...byName.values()];
  // Now and then two peers trade places, or the whole list turns round.
  const k = Math.floor(rand() * (list.length - 1));
  const r = rand();
  if (r < 0.05 && list.length > 1) [list[k], list[k + 1]] = [list[k + 1] as PeerNode, list[k] as PeerNode];
  else if (r < 0.07) list.reverse();
  return list;
}

describe('IncrementalDesired', () => {
  it('gives exactly desiredDatapath()’s result across random peer changes (randomised)', () => {
    const rand = lcg(7);
    const configs = {
      auto: config('auto'),
      vxlan: config('vxlan'),
      hostgw: config('hostgw'),
      wireguard: config('wireguard'),
      crossSubnet: testConfig('auto', { encryption: 'crossSubnet' }),
    };
    for (const [backend, cfg] of Object.entries(configs)) {
      const incremental = new IncrementalDesired();
      let peers: PeerNode[] = [];
      for (let round = 0; round < 400; round++) {
        // hostgw skips every far peer, WireGuard every peer without a key: there, only a few are.
        const few = backend === 'hostgw' || backend === 'wireguard' || backend === 'crossSubnet';
        peers = mutate(peers, rand, backend === 'hostgw' ? 0.005 : 0.5, few ? 0.002 : 0.05);
        assert.deepStrictEqual(
          incremental.compute(self, peers, cfg, underlay),
          desiredDatapath(self, peers, cfg, underlay),
          `${backend} #${round}`,
        );
      }
      // crossSubnet recomputes every change of a direct peer (their podCIDRs are an nft set).
      const least = backend === 'crossSubnet' ? 50 : 100;
      assert.ok(incremental.patchedCount > least, `${backend}: patched ${incremental.patchedCount} of 400`);
    }
  });

  it('gives exactly desiredDatapath()’s result for dual-stack peers too (randomised)', () => {
    const rand = lcg(23);
    const dual = { clusterCIDRs: ['10.244.0.0/16', 'fd00:10:244::/48'] };
    const configs = {
      auto: testConfig('auto', dual),
      vxlan: testConfig('vxlan', dual),
      hostgw: testConfig('hostgw', dual),
      wireguard: testConfig('wireguard', dual),
      crossSubnet: testConfig('auto', { ...dual, encryption: 'crossSubnet' }),
    };
    const selves: [string, SelfNode][] = [
      ['with IPv6 InternalIP', dualSelf],
      ['without', { ...dualSelf, underlayIP6: undefined }],
    ];
    for (const [selfName, me] of selves) {
      for (const [backend, cfg] of Object.entries(configs)) {
        const incremental = new IncrementalDesired();
        let peers: PeerNode[] = [];
        for (let round = 0; round < 300; round++) {
          const few = backend === 'hostgw' || backend === 'wireguard' || backend === 'crossSubnet';
          peers = mutate(peers, rand, backend === 'hostgw' ? 0.005 : 0.5, few ? 0.002 : 0.05, randomDualPeer);
          assert.deepStrictEqual(
            incremental.compute(me, peers, cfg, dualUnderlay),
            desiredDatapath(me, peers, cfg, dualUnderlay),
            `${selfName} ${backend} #${round}`,
          );
        }
        // crossSubnet recomputes every change of a peer direct in either family.
        const least = backend === 'crossSubnet' ? 15 : 100;
        assert.ok(
          incremental.patchedCount > least,
          `${selfName} ${backend}: patched ${incremental.patchedCount} of 300`,
        );
      }
    }
  });

  it('patches one added peer among many and recomputes when the config changes', () => {
    const peers: PeerNode[] = Array.from({ length: 300 }, (_, i) => ({
      name: `p${i}`,
      underlayIP: `100.64.${i >> 8}.${i & 255}`,
      podCIDRs: [`10.${1 + (i >> 8)}.${i & 255}.0/24`],
    }));
    const incremental = new IncrementalDesired();
    incremental.compute(self, peers, config('auto'), underlay);
    const added = [...peers, { name: 'q', underlayIP: '100.65.0.1', podCIDRs: ['10.200.0.0/24'] }];
    const d = incremental.compute(self, added, config('auto'), underlay);
    assert.equal(incremental.patchedCount, 1);
    assert.deepStrictEqual(d, desiredDatapath(self, added, config('auto'), underlay));
    const vxlan = incremental.compute(self, added, config('vxlan'), underlay);
    assert.equal(incremental.patchedCount, 1, 'another config is computed in full');
    assert.deepStrictEqual(vxlan, desiredDatapath(self, added, config('vxlan'), underlay));
  });
});
