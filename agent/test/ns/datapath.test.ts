import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { WEFT_ROUTE_PROTOCOL } from '../../src/datapath/datapath.js';
import { vtepMac } from '../../src/datapath/vtep.js';
import { buildTopology, routesOf, syncMesh, type Topology, testConfig } from './datapath-topology.js';
import { canPing, NetnsSet, nsIpJson, run } from './netns-helpers.js';

const weftRoutes = async (ns: string) =>
  (await routesOf(ns)).filter((r) => r.protocol === String(WEFT_ROUTE_PROTOCOL));

async function assertPings(from: string, targets: readonly string[]): Promise<void> {
  for (const ip of targets) assert.ok(await canPing(from, ip), `${from} cannot ping ${ip}`);
}

describe('datapath on a real kernel (namespaces)', { timeout: 120_000 }, () => {
  const set = new NetnsSet('wtdp');
  let t: Topology;

  before(async () => {
    await set.cleanup();
    t = await buildTopology(set);
  });
  after(async () => {
    await set.cleanup();
  });
  beforeEach(async () => {
    for (const n of [t.n1, t.n2, t.n3]) await n.datapath.uninstall(testConfig('auto'));
  });

  it('hostgw: nodes on one subnet reach each other by routes via the peer underlay IP', async () => {
    const result = await t.n1.datapath.sync(t.n1.self, [t.n2.self], testConfig('hostgw'));
    await t.n2.datapath.sync(t.n2.self, [t.n1.self], testConfig('hostgw'));
    assert.equal(result.mtu, 1500);
    assert.equal(result.underlayInterface, 'eth0');
    assert.deepEqual(
      (await weftRoutes(t.n1.ns)).map((r) => [r.dst, r.gateway, r.dev]),
      [['10.244.2.0/24', '192.168.71.2', 'eth0']],
    );
    const links = await nsIpJson<{ ifname: string }>(t.n1.ns, ['link', 'show']);
    assert.ok(!links.some((l) => l.ifname === 'weft.vxlan'), 'hostgw must not create a VXLAN device');
    await assertPings(t.n1.ns, ['10.244.2.1']);
    await assertPings(t.n2.ns, ['10.244.1.1']);
    const forward = await run('ip', ['netns', 'exec', t.n1.ns, 'sysctl', '-n', 'net.ipv4.ip_forward']);
    assert.equal(forward.trim(), '1');
  });

  it('vxlan: all nodes reach each other through weft.vxlan across the router', async () => {
    const nodes = [t.n1, t.n2, t.n3];
    await syncMesh(nodes, testConfig('vxlan'));
    const routes = await weftRoutes(t.n1.ns);
    assert.deepEqual(
      routes.map((r) => [r.dst, r.gateway, r.dev, r.flags?.includes('onlink')]),
      [
        ['10.244.2.0/24', '10.244.2.0', 'weft.vxlan', true],
        ['10.244.3.0/24', '10.244.3.0', 'weft.vxlan', true],
      ],
    );
    const neigh = await nsIpJson<{ dst: string; lladdr: string }>(t.n1.ns, [
      'neigh',
      'show',
      'dev',
      'weft.vxlan',
    ]);
    assert.deepEqual(neigh.map((n) => [n.dst, n.lladdr]).sort(), [
      ['10.244.2.0', vtepMac('192.168.71.2')],
      ['10.244.3.0', vtepMac('192.168.72.3')],
    ]);
    const fdb = JSON.parse(
      await run('bridge', ['-n', t.n1.ns, '-json', 'fdb', 'show', 'dev', 'weft.vxlan']),
    ) as {
      mac: string;
      dst: string;
    }[];
    assert.deepEqual(fdb.map((f) => [f.mac, f.dst]).sort(), [
      [vtepMac('192.168.71.2'), '192.168.71.2'],
      [vtepMac('192.168.72.3'), '192.168.72.3'],
    ]);
    const [vx] = await nsIpJson<{ address: string; mtu: number }>(t.n1.ns, ['link', 'show', 'weft.vxlan']);
    assert.equal(vx?.address, vtepMac('192.168.71.1'));
    assert.equal(vx?.mtu, 1450);
    await assertPings(t.n1.ns, ['10.244.2.1', '10.244.3.1']);
    await assertPings(t.n2.ns, ['10.244.1.1', '10.244.3.1']);
    await assertPings(t.n3.ns, ['10.244.1.1', '10.244.2.1']);
  });

  it('auto: direct route to the same-subnet peer, VXLAN to the peer behind the router', async () => {
    const nodes = [t.n1, t.n2, t.n3];
    await syncMesh(nodes, testConfig('auto'));
    const result = await t.n1.datapath.sync(t.n1.self, [t.n2.self, t.n3.self], testConfig('auto'));
    assert.deepEqual([...result.peerRoutes].sort(), [
      ['n2', 'direct'],
      ['n3', 'vxlan'],
    ]);
    assert.equal(result.mtu, 1450, 'auto keeps room for VXLAN even for direct peers');
    assert.deepEqual(
      (await weftRoutes(t.n1.ns)).map((r) => [r.dst, r.gateway, r.dev, r.flags?.includes('onlink') ?? false]),
      [
        ['10.244.2.0/24', '192.168.71.2', 'eth0', false],
        ['10.244.3.0/24', '10.244.3.0', 'weft.vxlan', true],
      ],
    );
    await assertPings(t.n1.ns, ['10.244.2.1', '10.244.3.1']);
    await assertPings(t.n2.ns, ['10.244.1.1', '10.244.3.1']);
    await assertPings(t.n3.ns, ['10.244.1.1', '10.244.2.1']);
    const metrics = await t.n1.registry.metrics();
    assert.match(metrics, /weft_routes\{backend="hostgw",family="ipv4"\} 1/);
    assert.match(metrics, /weft_routes\{backend="vxlan",family="ipv4"\} 1/);
  });
});
