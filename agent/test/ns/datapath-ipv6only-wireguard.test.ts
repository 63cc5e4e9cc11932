/**
 * WireGuard over an IPv6-only underlay (ADR 19) through the real Datapath and WireguardManager:
 * the three IPv6-only nodes of datapath-topology (n3 behind a router), backend wireguard, every
 * peer through `weft.wg` with an `[addr]:port` endpoint and MTU underlay − 80. Named wt6w-…;
 * uninstall in after() deletes the devices, which ends every wireguard-go, also on failure.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../../../common/log.js';
import { resolveWireguardGo } from '../../../e2e/wireguard/wireguard-go.js';
import { requireHostTools } from '../../../scripts/host-tools.js';
import { Datapath } from '../../src/datapath/datapath.js';
import type { PeerNode } from '../../src/datapath/types.js';
import { detectWireguard } from '../../src/wireguard/detect.js';
import { WireguardManager } from '../../src/wireguard/manager.js';
import { buildTopology, type TestNode, testConfig } from './datapath-topology.js';
import { addPod, assertPodMesh6, dadDone, ping6 } from './ipv6-probes.js';
import { NetnsSet, nsIpJson } from './netns-helpers.js';

const config = testConfig('wireguard', { clusterCIDRs: ['fd00:10:244::/56'] });
/** Underlay 1500 − 80 (outer IPv6 40 + UDP 8 + WireGuard 32). */
const MTU = 1420;

interface WgNode {
  readonly node: TestNode;
  readonly datapath: Datapath;
  readonly manager: WireguardManager;
}

describe('WireGuard on IPv6-only nodes (namespaces)', { timeout: 180_000 }, () => {
  const set = new NetnsSet('wt6w');
  const nodes: WgNode[] = [];
  const pods: string[] = [];
  let scratch = '';
  const peersOf = (me: WgNode): PeerNode[] =>
    nodes.filter((n) => n !== me).map((n) => ({ ...n.node.self, wgPublicKey: n.manager.publicKey }));
  const syncAll = async () => {
    const changes: number[] = [];
    for (const n of nodes) changes.push((await n.datapath.sync(n.node.self, peersOf(n), config)).changes);
    return changes;
  };

  before(async () => {
    requireHostTools(['ip']);
    const wireguardGo = await resolveWireguardGo();
    const implementation = await detectWireguard({ wireguardGo });
    assert.notEqual(implementation.kind, 'none', implementation.kind === 'none' ? implementation.reason : '');
    await set.cleanup();
    scratch = await mkdtemp(join(tmpdir(), 'wt6w-'));
    const t = await buildTopology(set, { ipv6only: true });
    // Handshakes start at the first sync: the underlay must answer neighbour solicitations by then.
    await dadDone([t.n1.ns, t.n2.ns, t.n3.ns, t.router]);
    for (const node of [t.n1, t.n2, t.n3]) {
      const dir = join(scratch, node.self.name);
      const log = silentLogger();
      const registry = new Registry();
      const manager = await WireguardManager.create({
        ...{ device: config.wireguardName, stateDir: join(dir, 'state'), runDir: join(dir, 'run') },
        ...{ wireguardGo, netns: node.ns, log, registry, implementation },
      });
      nodes.push({
        node,
        manager,
        datapath: new Datapath({ netlink: node.netlink, registry, log, wireguard: manager }),
      });
    }
    await syncAll();
    for (const [i, n] of nodes.entries())
      pods.push(await addPod(set, n.node, i + 1, { mtu: MTU, ipv4: false }));
    await dadDone([...nodes.map((n) => n.node.ns), ...pods]);
  });
  after(async () => {
    for (const n of nodes) {
      await n.datapath.uninstall(config).catch(() => undefined);
      n.manager.close();
    }
    await set.cleanup();
    if (scratch !== '') await rm(scratch, { recursive: true, force: true });
  });

  it('every peer through weft.wg with an [IPv6]:port endpoint and MTU underlay − 80', async () => {
    const [n1] = nodes as [WgNode];
    const r = await n1.datapath.sync(n1.node.self, peersOf(n1), config);
    assert.deepEqual(Object.fromEntries(r.peerRoutes6), { n2: 'wireguard', n3: 'wireguard' });
    assert.equal(r.mtu, MTU);
    const [wg] = await nsIpJson<{ mtu: number }>(n1.node.ns, ['link', 'show', config.wireguardName]);
    assert.equal(wg?.mtu, MTU);
    const got = n1.manager.status().peers.map((p) => `${p.name} ${p.endpoint}`);
    assert.deepEqual(got.sort(), ['n2 [fd00:71::2]:51820', 'n3 [fd00:72::3]:51820']);
  });

  it('pods reach each other through the tunnel, sources kept; a full-size packet fits', async () => {
    // The host from its bridge address: weft.wg has none on an IPv6-only node (ADR 19).
    await assertPodMesh6(pods, nodes[0]?.node.ns ?? '', 'fd00:10:244:1::1');
    const full = ['-M', 'do', '-s', String(MTU - 48)];
    assert.ok(await ping6(pods[0] as string, 'fd00:10:244:3::5', full), 'a full-size packet to the far node');
    assert.ok(await ping6(pods[1] as string, 'fd00:10:244:1::5', full), 'and on the shared subnet');
  });

  it('a second sync changes nothing; uninstall removes the device', async () => {
    assert.deepEqual(await syncAll(), [0, 0, 0]);
    const [n1] = nodes as [WgNode];
    await n1.datapath.uninstall(config);
    const left = (await nsIpJson<{ ifname: string }>(n1.node.ns, ['link', 'show'])).map((l) => l.ifname);
    assert.ok(!left.includes(config.wireguardName) && !left.includes('weft0'), left.join(', '));
  });
});
