import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WEFT_ROUTE_PROTOCOL } from '../../src/datapath/datapath.js';
import type { DatapathConfig } from '../../src/datapath/types.js';
import { vtepMac } from '../../src/datapath/vtep.js';
import {
  buildTopology,
  type RouteJson,
  syncMesh,
  type TestNode,
  type Topology,
  testConfig,
} from './datapath-topology.js';
import { addPod, assertPing6, assertPodMesh6, dadDone, ping6 } from './ipv6-probes.js';
import { NetnsSet, nsIpJson, nsRun } from './netns-helpers.js';

/**
 * Dual-stack (ADR 18) on a real kernel: n1 and n2 share an IPv4 and an IPv6 subnet (IPv6
 * direct), n3 is behind a router that forwards IPv4 only (IPv6 inside the IPv4 VXLAN). Each
 * node has a pod namespace on its bridge with 10.244.<n>.5 and fd00:10:244:<n>::5; pods ping
 * each other over IPv6 and the receiving pod counts the echo requests by their source, so a
 * rewritten source would show.
 */
const pod6 = (n: number) => `fd00:10:244:${n}::5`;
const dualConfig = (backend: DatapathConfig['backend']) =>
  testConfig(backend, { clusterCIDRs: ['10.244.0.0/16', 'fd00:10:244::/56'] });
const weft6 = (ns: string) =>
  nsIpJson<RouteJson & { metric?: number }>(ns, [
    '-6',
    'route',
    'show',
    'table',
    'main',
    'proto',
    String(WEFT_ROUTE_PROTOCOL),
  ]);
const routes6 = async (ns: string) =>
  (await weft6(ns)).map((r) => [r.dst, r.gateway, r.dev, r.flags?.includes('onlink') ?? false]);
const neigh6 = async (ns: string) =>
  (
    await nsIpJson<{ dst: string; lladdr?: string; state?: string[] }>(ns, [
      '-6',
      'neigh',
      'show',
      'dev',
      'weft.vxlan',
    ])
  )
    .filter((n) => n.state?.includes('PERMANENT'))
    .map((n) => [n.dst, n.lladdr]);
const addrs6 = async (ns: string, dev: string) =>
  (
    await nsIpJson<{ addr_info: { local: string; prefixlen: number; scope: string }[] }>(ns, [
      '-6',
      'addr',
      'show',
      'dev',
      dev,
    ])
  )
    .flatMap((l) => l.addr_info)
    .map((a) => `${a.local}/${a.prefixlen} ${a.scope}`)
    .sort();
const sysctl = async (ns: string, key: string) => (await nsRun(ns, 'sysctl', ['-n', key])).trim();

describe('datapath dual-stack on a real kernel (namespaces)', { timeout: 180_000 }, () => {
  const set = new NetnsSet('wtds');
  let t: Topology;
  const pods: string[] = [];
  let nodes: TestNode[];

  before(async () => {
    await set.cleanup();
    t = await buildTopology(set, { ipv6: true });
    nodes = [t.n1, t.n2, t.n3];
    // n1 takes router advertisements now (the namespace default: accept_ra 1, no forwarding); n3 does not.
    await nsRun(t.n3.ns, 'sysctl', ['-q', '-w', 'net.ipv6.conf.eth0.accept_ra=0']);
    await syncMesh(nodes, dualConfig('auto'));
    for (const [i, node] of nodes.entries())
      pods.push(await addPod(set, node, i + 1, { mtu: 1450, ipv4: true }));
    await dadDone([...nodes.map((n) => n.ns), ...pods]);
  });
  after(async () => {
    await set.cleanup();
  });

  it('auto: IPv6 direct to the peer on the IPv6 subnet, inside the IPv4 VXLAN to the one behind the router', async () => {
    const result = await t.n1.datapath.sync(t.n1.self, [t.n2.self, t.n3.self], dualConfig('auto'));
    assert.deepEqual(Object.fromEntries(result.peerRoutes6), { n2: 'direct', n3: 'vxlan' });
    assert.deepEqual(await routes6(t.n1.ns), [
      ['fd00:10:244:2::/64', 'fd00:71::2', 'eth0', false],
      ['fd00:10:244:3::/64', 'fd00:10:244:3::', 'weft.vxlan', true],
    ]);
    assert.deepEqual(await neigh6(t.n1.ns), [['fd00:10:244:3::', vtepMac('192.168.72.3')]]);
    // The kernel's own fe80:: addresses stay beside Weft's (never deleted, never planned).
    const vx = await addrs6(t.n1.ns, 'weft.vxlan');
    assert.ok(vx.includes('fd00:10:244:1::/128 global'), vx.join(', '));
    assert.ok(
      vx.some((a) => a.startsWith('fe80::') && a.endsWith(' link')),
      vx.join(', '),
    );
    const br = await addrs6(t.n1.ns, 'weft0');
    assert.ok(br.includes('fd00:10:244:1::1/64 global'), br.join(', '));
    assert.ok(
      br.some((a) => a.startsWith('fe80::')),
      `the bridge has its link-local address: ${br.join(', ')}`,
    );

    const [p1] = pods as [string];
    // 1↔2 direct, to and from 3 inside the IPv4 VXLAN; the host from its VTEP address.
    await assertPodMesh6(pods, t.n1.ns);
    assert.ok(await ping6(p1, 'fd00:10:244:3::1'), 'the far bridge address');
    // IPv4 keeps working beside it.
    for (const [from, to] of [
      [p1, '10.244.2.5'],
      [p1, '10.244.3.5'],
    ] as const)
      await nsRun(from, 'ping', ['-c', '1', '-W', '2', to]);
    // weft_routes counts each family's routes apart.
    const metrics = await t.n1.registry.metrics();
    for (const family of ['ipv4', 'ipv6']) {
      assert.match(metrics, new RegExp(`weft_routes\\{backend="hostgw",family="${family}"\\} 1`));
      assert.match(metrics, new RegExp(`weft_routes\\{backend="vxlan",family="${family}"\\} 1`));
    }
  });

  it('masquerades IPv6 pod traffic that leaves the cluster, and sets the IPv6 sysctls', async () => {
    const [p1] = pods as [string];
    // The router has no route to any podCIDR: only a masqueraded source gets an answer.
    assert.ok(await ping6(p1, 'fd00:71::254'), 'pod → outside (the router) over IPv6');
    const off = { ...dualConfig('auto'), masquerade: false };
    await t.n1.datapath.sync(t.n1.self, [t.n2.self, t.n3.self], off);
    assert.ok(!(await ping6(p1, 'fd00:71::254')), 'without masquerade the router cannot answer');
    await t.n1.datapath.sync(t.n1.self, [t.n2.self, t.n3.self], dualConfig('auto'));
    const nft = await nsRun(t.n1.ns, 'nft', ['list', 'table', 'inet', 'weft']);
    assert.match(nft, /ip6 saddr @cluster6 ip6 daddr != @nomasq6 masquerade fully-random/);
    assert.equal(await sysctl(t.n1.ns, 'net.ipv6.conf.all.forwarding'), '1');
    assert.equal(await sysctl(t.n1.ns, 'net.ipv6.conf.eth0.accept_ra'), '2', 'n1 took RAs: it still does');
    assert.equal(await sysctl(t.n3.ns, 'net.ipv6.conf.eth0.accept_ra'), '0', 'n3 did not: untouched');
  });

  it('a second sync changes nothing', async () => {
    for (const node of nodes) {
      const peers = nodes.filter((n) => n !== node).map((n) => n.self);
      const again = await node.datapath.sync(node.self, peers, dualConfig('auto'));
      assert.equal(again.changes, 0, `${node.self.name}: ${JSON.stringify(node.datapath.lastPlan)}`);
    }
  });

  it('a peer without an IPv6 InternalIP: IPv4 stays direct, IPv6 moves into the tunnel; a gone peer’s IPv6 entries go', async () => {
    const n2v4 = { ...t.n2.self, underlayIP6: undefined };
    const r1 = await t.n1.datapath.sync(t.n1.self, [n2v4, t.n3.self], dualConfig('auto'));
    await t.n2.datapath.sync(
      { ...t.n2.self, underlayIP6: undefined },
      [t.n1.self, t.n3.self],
      dualConfig('auto'),
    );
    assert.deepEqual(Object.fromEntries(r1.peerRoutes), { n2: 'direct', n3: 'vxlan' });
    assert.deepEqual(Object.fromEntries(r1.peerRoutes6), { n2: 'vxlan', n3: 'vxlan' });
    assert.deepEqual(await routes6(t.n1.ns), [
      ['fd00:10:244:2::/64', 'fd00:10:244:2::', 'weft.vxlan', true],
      ['fd00:10:244:3::/64', 'fd00:10:244:3::', 'weft.vxlan', true],
    ]);
    const [p1, p2] = pods as [string, string];
    await assertPing6(p1, pod6(2), p2, pod6(1));
    await assertPing6(p2, pod6(1), p1, pod6(2));
    // n3 leaves n1's peers: its IPv6 route and neighbour are removed, the other peer's stay.
    await t.n1.datapath.sync(t.n1.self, [n2v4], dualConfig('auto'));
    assert.deepEqual(await routes6(t.n1.ns), [['fd00:10:244:2::/64', 'fd00:10:244:2::', 'weft.vxlan', true]]);
    assert.deepEqual(await neigh6(t.n1.ns), [['fd00:10:244:2::', vtepMac('192.168.71.2')]]);
    // n2 has its IPv6 InternalIP again: the route is replaced in place, the neighbour goes.
    await t.n1.datapath.sync(t.n1.self, [t.n2.self], dualConfig('auto'));
    assert.ok(t.n1.datapath.lastPlan?.some((o) => o.op === 'route-replace'));
    assert.deepEqual(await routes6(t.n1.ns), [['fd00:10:244:2::/64', 'fd00:71::2', 'eth0', false]]);
    assert.deepEqual(await neigh6(t.n1.ns), []);
  });

  it('hostgw: IPv6 direct between the two nodes of one subnet; without an IPv6 path only IPv4', async () => {
    await syncMesh([t.n1, t.n2], dualConfig('hostgw'));
    assert.deepEqual(await routes6(t.n1.ns), [['fd00:10:244:2::/64', 'fd00:71::2', 'eth0', false]]);
    const [p1, p2] = pods as [string, string];
    await assertPing6(p1, pod6(2), p2, pod6(1));
    const r = await t.n1.datapath.sync(
      t.n1.self,
      [{ ...t.n2.self, underlayIP6: undefined }],
      dualConfig('hostgw'),
    );
    assert.deepEqual([...r.peerRoutes], [['n2', 'direct']]);
    assert.deepEqual([...r.peerRoutes6], []);
    assert.deepEqual(await routes6(t.n1.ns), []);
    await nsRun(p1, 'ping', ['-c', '1', '-W', '2', '10.244.2.5']);
  });

  it('uninstall removes every IPv6 route, neighbour and address Weft made', async () => {
    await syncMesh(nodes, dualConfig('auto'));
    assert.equal((await weft6(t.n1.ns)).length, 2);
    for (const node of nodes) {
      await node.datapath.uninstall(dualConfig('auto'));
      assert.deepEqual(await weft6(node.ns), [], `${node.self.name}: IPv6 routes of protocol 87`);
      const links = await nsIpJson<{ ifname: string }>(node.ns, ['link', 'show']);
      assert.ok(!links.some((l) => l.ifname === 'weft0' || l.ifname === 'weft.vxlan'), 'devices gone');
      const global6 = await addrs6(node.ns, 'eth0');
      assert.ok(
        global6.every((a) => !a.startsWith('fd00:10:244:')),
        `no pod address left on the underlay: ${global6.join(', ')}`,
      );
      const all6 = await nsIpJson<{ dst: string }>(node.ns, ['-6', 'route', 'show', 'table', 'all']);
      assert.ok(
        all6.every((r) => !r.dst.startsWith('fd00:10:244:')),
        `no route to a podCIDR left: ${all6.map((r) => r.dst).join(', ')}`,
      );
    }
  });
});
