import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WEFT_ROUTE_PROTOCOL } from '../../src/datapath/datapath.js';
import type { DatapathConfig, PeerNode } from '../../src/datapath/types.js';
import { buildTopology, syncMesh, type TestNode, type Topology, testConfig } from './datapath-topology.js';
import { addPod, assertPing6, assertPodMesh6, dadDone, ping6 } from './ipv6-probes.js';
import { addVethPair, NetnsSet, nsIpBatch, nsIpJson, nsRun, run } from './netns-helpers.js';

/**
 * IPv6-only nodes (ADR 19) on a real kernel: no IPv4 address anywhere. n1 (fd00:71::1) and n2
 * (fd00:71::2) share a subnet (host-gw), n3 (fd00:72::3) is behind a router that forwards IPv6
 * (VXLAN over IPv6), and `ex` (fd00:99::9) behind the router stands for the outside world: the
 * router has no route to any podCIDR, so only a masqueraded pod gets its answer. One pod per node
 * with fd00:10:244:<n>::5 only; the receiving pod counts echo requests by source.
 */
const pod6 = (n: number) => `fd00:10:244:${n}::5`;
const EXTERNAL = 'fd00:99::9';
const config = (backend: DatapathConfig['backend'], more: Partial<DatapathConfig> = {}) =>
  testConfig(backend, { clusterCIDRs: ['fd00:10:244::/56'], ...more });
/** Underlay 1500 − 70 (outer IPv6 header). */
const MTU = 1430;

type Route = { dst: string; gateway?: string; dev?: string; flags?: string[] };
const weft6 = (ns: string) =>
  nsIpJson<Route>(ns, ['-6', 'route', 'show', 'table', 'main', 'proto', String(WEFT_ROUTE_PROTOCOL)]);
const routes6 = async (ns: string) =>
  (await weft6(ns)).map((r) => [r.dst, r.gateway, r.dev, r.flags?.includes('onlink') ?? false]);
const sysctl = async (ns: string, key: string) => (await nsRun(ns, 'sysctl', ['-n', key])).trim();
const links = async (ns: string) =>
  (await nsIpJson<{ ifname: string }>(ns, ['link', 'show'])).map((l) => l.ifname);

describe('datapath on IPv6-only nodes on a real kernel (namespaces)', { timeout: 240_000 }, () => {
  const set = new NetnsSet('wt6o');
  let t: Topology;
  let nodes: TestNode[];
  let ex: string;
  const pods: string[] = [];
  const peersOf = (node: TestNode) => nodes.filter((n) => n !== node).map((n) => n.self);

  before(async () => {
    await set.cleanup();
    t = await buildTopology(set, { ipv6only: true });
    nodes = [t.n1, t.n2, t.n3];
    ex = await set.create('ex');
    await addVethPair(t.router, 'eth2', ex, 'eth0');
    await nsIpBatch(t.router, ['addr add fd00:99::254/64 dev eth2 nodad']);
    await nsIpBatch(ex, [`addr add ${EXTERNAL}/64 dev eth0 nodad`, 'route add default via fd00:99::254']);
    await syncMesh(nodes, config('auto'));
    for (const [i, node] of nodes.entries())
      pods.push(await addPod(set, node, i + 1, { mtu: MTU, ipv4: false }));
    await dadDone([...nodes.map((n) => n.ns), t.router, ex, ...pods]);
  });
  after(async () => {
    await set.cleanup();
  });

  it('auto: direct to the peer on the subnet, VXLAN over IPv6 to the one behind the router', async () => {
    const r = await t.n1.datapath.sync(t.n1.self, peersOf(t.n1), config('auto'));
    assert.deepEqual(Object.fromEntries(r.peerRoutes6), { n2: 'direct', n3: 'vxlan' });
    assert.deepEqual([...r.peerRoutes], []);
    assert.equal(r.mtu, MTU);
    assert.equal(r.underlayInterface, 'eth0');
    assert.deepEqual(await routes6(t.n1.ns), [
      ['fd00:10:244:2::/64', 'fd00:71::2', 'eth0', false],
      ['fd00:10:244:3::/64', 'fd00:10:244:3::', 'weft.vxlan', true],
    ]);
    const [vx] = await nsIpJson<{
      mtu: number;
      address: string;
      linkinfo: { info_data: Record<string, unknown> };
    }>(t.n1.ns, ['-d', 'link', 'show', 'weft.vxlan']);
    assert.equal(vx?.mtu, MTU, 'weft.vxlan = underlay − 70');
    assert.equal(vx?.address, '02:57:fd:00:00:70', 'VTEP MAC folded from fd00:71::1');
    assert.equal(vx?.linkinfo.info_data.local6, 'fd00:71::1');
    const fdb = JSON.parse(await nsRun(t.n1.ns, 'bridge', ['-json', 'fdb', 'show', 'dev', 'weft.vxlan']));
    assert.deepEqual(
      (fdb as { mac: string; dst?: string }[]).filter((f) => f.dst).map((f) => [f.mac, f.dst]),
      [['02:57:fd:00:00:71', 'fd00:72::3']],
    );
    const [br] = await nsIpJson<{ address: string }>(t.n1.ns, ['link', 'show', 'weft0']);
    assert.equal(br?.address, '0a:57:fd:00:00:70');
  });

  it('pods reach each other across nodes with their source kept; a full-size packet fits the tunnel', async () => {
    const [p1, p3] = [pods[0] as string, pods[2] as string];
    // 1↔2 direct, to and from 3 in VXLAN over IPv6; the host from its VTEP address.
    await assertPodMesh6(pods, t.n1.ns);
    // 1430 bytes with the IPv6 (40) and ICMPv6 (8) headers, never fragmented: 1500 on the wire.
    const full = ['-M', 'do', '-s', String(MTU - 48)];
    assert.ok(await ping6(p1, pod6(3), full), 'a full-size packet through the tunnel');
    assert.ok(await ping6(p3, pod6(1), full), 'and back');
    assert.ok(await ping6(p1, pod6(2), full), 'and direct');
    assert.ok(
      !(await ping6(p1, pod6(3), ['-M', 'do', '-s', String(MTU - 47)])),
      'one byte more does not fit',
    );
  });

  it('masquerades pod traffic that leaves the cluster, with only IPv6 rules and sysctls', async () => {
    const [p1] = pods as [string];
    assert.ok(await ping6(p1, EXTERNAL), 'pod → outside over IPv6');
    await t.n1.datapath.sync(t.n1.self, peersOf(t.n1), config('auto', { masquerade: false }));
    assert.ok(!(await ping6(p1, EXTERNAL)), 'without masquerade the outside cannot answer');
    await t.n1.datapath.sync(t.n1.self, peersOf(t.n1), config('auto'));
    assert.ok(await ping6(p1, EXTERNAL), 'masquerade back');
    const nft = await nsRun(t.n1.ns, 'nft', ['list', 'table', 'inet', 'weft']);
    assert.match(nft, /ip6 saddr @cluster6 ip6 daddr != @nomasq6 masquerade fully-random/);
    assert.ok(!/\bip (saddr|daddr)\b|cluster4|node-snat|tunnel-reply/.test(nft), nft);
    assert.equal(await sysctl(t.n1.ns, 'net.ipv6.conf.all.forwarding'), '1');
    assert.equal(await sysctl(t.n1.ns, 'net.ipv4.ip_forward'), '0', 'IPv4 forwarding untouched');
    for (const family of ['-4', '-6']) {
      const rules = await nsIpJson<{ fwmark?: string }>(t.n1.ns, [family, 'rule', 'show']);
      assert.ok(
        !rules.some((r) => r.fwmark !== undefined),
        `no ADR 14 fwmark rule: ${JSON.stringify(rules)}`,
      );
    }
  });

  it('a second sync changes nothing', async () => {
    for (const node of nodes) {
      const again = await node.datapath.sync(node.self, peersOf(node), config('auto'));
      assert.equal(again.changes, 0, `${node.self.name}: ${JSON.stringify(node.datapath.lastPlan)}`);
    }
  });

  it('a peer with an IPv4 underlay is left out with a reason, the others stay', async () => {
    const v4: PeerNode = { name: 'n9', underlayIP: '192.168.71.9', podCIDRs: ['10.244.9.0/24'] };
    const r = await t.n1.datapath.sync(t.n1.self, [...peersOf(t.n1), v4], config('auto'));
    assert.equal(r.changes, 0);
    assert.deepEqual(Object.fromEntries(r.peerRoutes6), { n2: 'direct', n3: 'vxlan' });
    assert.deepEqual(
      t.n1.datapath.lastDesired?.skipped.map((s) => s.peer),
      ['n9'],
    );
    assert.match(t.n1.datapath.lastDesired?.skipped[0]?.reason ?? '', /underlay family differs/);
  });

  it('vxlan: the shared subnet through the tunnel too; hostgw: direct only, the far node left out', async () => {
    await syncMesh(nodes, config('vxlan'));
    assert.deepEqual(await routes6(t.n1.ns), [
      ['fd00:10:244:2::/64', 'fd00:10:244:2::', 'weft.vxlan', true],
      ['fd00:10:244:3::/64', 'fd00:10:244:3::', 'weft.vxlan', true],
    ]);
    const [p1, p2, p3] = pods as [string, string, string];
    await assertPing6(p1, pod6(2), p2, pod6(1));
    await assertPing6(p2, pod6(3), p3, pod6(2));
    const r = await t.n1.datapath.sync(t.n1.self, peersOf(t.n1), config('hostgw'));
    await t.n2.datapath.sync(t.n2.self, peersOf(t.n2), config('hostgw'));
    assert.deepEqual(Object.fromEntries(r.peerRoutes6), { n2: 'direct' });
    assert.equal(r.mtu, 1500);
    assert.deepEqual(await routes6(t.n1.ns), [['fd00:10:244:2::/64', 'fd00:71::2', 'eth0', false]]);
    assert.ok(!(await links(t.n1.ns)).includes('weft.vxlan'), 'no VXLAN device in hostgw');
    await assertPing6(p1, pod6(2), p2, pod6(1));
  });

  it('uninstall leaves nothing of Weft’s', async () => {
    await syncMesh(nodes, config('auto'));
    for (const node of nodes) {
      await node.datapath.uninstall(config('auto'));
      const name = node.self.name;
      assert.deepEqual(await weft6(node.ns), [], `${name}: IPv6 routes of protocol 87`);
      const left = await links(node.ns);
      assert.ok(!left.includes('weft0') && !left.includes('weft.vxlan'), `${name}: ${left.join(', ')}`);
      await assert.rejects(run('ip', ['netns', 'exec', node.ns, 'nft', 'list', 'table', 'inet', 'weft']));
      const all6 = await nsIpJson<{ dst: string }>(node.ns, ['-6', 'route', 'show', 'table', 'all']);
      assert.ok(
        all6.every((r) => !r.dst.startsWith('fd00:10:244:')),
        `${name}: no route to a podCIDR left: ${all6.map((r) => r.dst).join(', ')}`,
      );
    }
  });
});
