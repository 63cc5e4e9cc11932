import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { formatHostPort } from '../../../../common/ip.js';
import { silentLogger } from '../../../../common/log.js';
import { GossipMesh } from '../mesh.js';
import type { PeerAddress } from '../transport.js';

const KEY = Buffer.alloc(32, 6);
const TIMING = { intervalMs: 50, heartbeatMs: 100, suspectAfterMs: 600, deadAfterMs: 1200 };

async function until(what: string, cond: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * IPv6-only nodes (ADR 19): records carry an IPv6 underlayIP, the mesh listens on an IPv6
 * address and dials ws://[addr]:port/, both from a seed and from an address learnt in a record.
 */
describe('gossip mesh over WebSockets on IPv6 loopback (IPv6-only nodes)', () => {
  const meshes: GossipMesh[] = [];
  after(async () => {
    for (const m of meshes) await m.close();
  });

  function start(name: string, seeds: () => PeerAddress[]): Promise<{ port: number }> {
    const n = meshes.length + 1;
    const mesh = new GossipMesh({
      name,
      self: () => ({
        underlayIP: '::1',
        underlayIP6: '::1',
        podCIDRs: [`fd00:10:0:${n}::/64`],
        backend: 'vxlan',
        mtu: 1430,
        ready: true,
        agentVersion: 'test',
      }),
      key: KEY,
      listen: { host: '::1', port: 0 },
      seeds,
      log: silentLogger(),
      registry: new Registry(),
      timing: TIMING,
    });
    meshes.push(mesh);
    return mesh.start(new AbortController().signal);
  }

  it('converges: a dials b from its seed, b dials a back at the address in a record', async () => {
    const b = await start('b', () => []);
    const bSeed = { name: 'b', address: formatHostPort('::1', b.port) };
    assert.equal(bSeed.address, `[::1]:${b.port}`);
    await start('a', () => [bSeed]);
    const [mb, ma] = meshes as [GossipMesh, GossipMesh];
    const stateOf = (m: GossipMesh, peer: string) => m.view().peers.find((p) => p.name === peer)?.state;
    await until(
      'a and b alive for each other',
      () => stateOf(ma, 'b') === 'alive' && stateOf(mb, 'a') === 'alive',
    );
    const aSeenByB = mb.view().peers.find((p) => p.name === 'a')?.record;
    assert.equal(aSeenByB?.underlayIP, '::1');
    assert.equal(aSeenByB?.underlayIP6, '::1');
    assert.deepEqual(aSeenByB?.podCIDRs, ['fd00:10:0:2::/64']);
    // The API view (name → IPv6 InternalIP, RFC 5952 as parseKubeNode gives it) admits the
    // records; one naming another address is dropped.
    mb.setAllowedPeers(new Map([['a', '::1']]));
    assert.equal(stateOf(mb, 'a'), 'alive', 'same IPv6 underlay: kept');
    ma.setAllowedPeers(new Map([['b', 'fd00::2']]));
    assert.equal(stateOf(ma, 'b'), undefined, 'another underlay address: dropped');
    ma.setAllowedPeers(new Map([['b', '::1']]));
    await until('b back at a', () => stateOf(ma, 'b') === 'alive');
    await until('rtt measured both ways', () =>
      [ma, mb].every((m) => m.view().peers.every((p) => p.rttMs !== null)),
    );
  });
});
