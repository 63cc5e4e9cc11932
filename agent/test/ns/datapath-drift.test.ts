import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../../../common/log.js';
import { Datapath, WEFT_ROUTE_PROTOCOL } from '../../src/datapath/datapath.js';
import type { DatapathApplyError } from '../../src/datapath/errors.js';
import { bridgeMac, vtepMac } from '../../src/datapath/vtep.js';
import { buildTopology, routesOf, syncMesh, type Topology, testConfig } from './datapath-topology.js';
import { canPing, NetnsSet, nsIpBatch, nsIpJson, nsRun, run } from './netns-helpers.js';

const PROTO = String(WEFT_ROUTE_PROTOCOL);
const route = async (ns: string, dst: string) => (await routesOf(ns)).find((r) => r.dst === dst);
const neighOf = (ns: string) =>
  nsIpJson<{ dst: string; lladdr?: string }>(ns, ['neigh', 'show', 'dev', 'weft.vxlan']);
const fdbOf = async (ns: string) =>
  JSON.parse(await run('bridge', ['-n', ns, '-json', 'fdb', 'show', 'dev', 'weft.vxlan'])) as {
    mac: string;
  }[];
const linkMac = async (ns: string, dev: string) =>
  (await nsIpJson<{ address: string }>(ns, ['link', 'show', 'dev', dev]))[0]?.address;
const nftTable = (ns: string) => nsRun(ns, 'nft', ['-j', 'list', 'table', 'inet', 'weft']);

describe('datapath repairs drift and owns only its own entries (namespaces)', { timeout: 120_000 }, () => {
  const set = new NetnsSet('wtdpd');
  const config = testConfig('auto');
  let t: Topology;
  const syncN1 = (peers = [t.n2.self, t.n3.self], cfg = config) => t.n1.datapath.sync(t.n1.self, peers, cfg);

  before(async () => {
    await set.cleanup();
    t = await buildTopology(set);
  });
  after(async () => {
    await set.cleanup();
  });
  beforeEach(async () => {
    await syncMesh([t.n1, t.n2, t.n3], config);
  });

  it('plans nothing on an already-correct kernel, also for a freshly started agent', async () => {
    const again = await syncN1();
    assert.equal(again.changes, 0);
    assert.deepEqual(t.n1.datapath.lastPlan, []);
    const restarted = new Datapath({ netlink: t.n1.netlink, registry: new Registry(), log: silentLogger() });
    await restarted.sync(t.n1.self, [t.n2.self, t.n3.self], config);
    assert.deepEqual(restarted.lastPlan, []);
  });

  it('restores a deleted route, neighbour and FDB entry, and a wrong gateway', async () => {
    await nsIpBatch(t.n1.ns, [
      'route del 10.244.3.0/24',
      'neigh del 10.244.3.0 dev weft.vxlan',
      `route replace 10.244.2.0/24 via 192.168.71.254 dev eth0 proto ${PROTO}`,
    ]);
    await run('bridge', ['-n', t.n1.ns, 'fdb', 'del', vtepMac('192.168.72.3'), 'dev', 'weft.vxlan', 'self']);
    assert.equal(await canPing(t.n1.ns, '10.244.3.1', 1), false, 'the hand-made damage must break the path');
    await syncN1();
    const ops = (t.n1.datapath.lastPlan ?? []).map((o) => o.op).sort();
    assert.deepEqual(ops, ['fdb-replace', 'neigh-replace', 'route-add', 'route-replace']);
    assert.equal((await route(t.n1.ns, '10.244.2.0/24'))?.gateway, '192.168.71.2');
    assert.equal((await route(t.n1.ns, '10.244.3.0/24'))?.dev, 'weft.vxlan');
    assert.ok(await canPing(t.n1.ns, '10.244.3.1'));
    assert.ok(await canPing(t.n1.ns, '10.244.2.1'));
  });

  it("repairs weft0's derived MAC when it is changed by hand", async () => {
    assert.equal(await linkMac(t.n1.ns, 'weft0'), bridgeMac('192.168.71.1'));
    await nsIpBatch(t.n1.ns, ['link set dev weft0 address 02:00:00:00:00:07']);
    await syncN1();
    assert.deepEqual(
      (t.n1.datapath.lastPlan ?? []).map((o) => o.op),
      ['link-mac'],
    );
    assert.equal(await linkMac(t.n1.ns, 'weft0'), bridgeMac('192.168.71.1'));
  });

  it('removes a stray route with its protocol and leaves a route of another protocol alone', async () => {
    await nsIpBatch(t.n1.ns, [
      `route add 10.244.99.0/24 via 192.168.71.2 proto ${PROTO}`,
      'route add 10.244.98.0/24 via 192.168.71.2 proto static',
    ]);
    await syncN1();
    assert.equal(await route(t.n1.ns, '10.244.99.0/24'), undefined);
    assert.equal((await route(t.n1.ns, '10.244.98.0/24'))?.protocol, 'static');
    await nsIpBatch(t.n1.ns, ['route del 10.244.98.0/24']);
  });

  it('does not overwrite a foreign route to a peer podCIDR: reports EEXIST, programs the other peers', async () => {
    await nsIpBatch(t.n1.ns, [
      'route del 10.244.2.0/24',
      'route add 10.244.2.0/24 via 192.168.71.254 proto static',
    ]);
    try {
      await assert.rejects(syncN1(), (err: unknown) => {
        const failures = (err as DatapathApplyError).failures ?? [];
        return failures.length === 1 && failures[0]?.error.code === 'EEXIST';
      });
      const r = await route(t.n1.ns, '10.244.2.0/24');
      assert.deepEqual([r?.gateway, r?.protocol], ['192.168.71.254', 'static']);
      assert.equal((await route(t.n1.ns, '10.244.3.0/24'))?.dev, 'weft.vxlan');
      assert.match(await t.n1.registry.metrics(), /weft_datapath_apply_errors_total 1/);
    } finally {
      await nsIpBatch(t.n1.ns, ['route del 10.244.2.0/24']);
    }
  });

  it('drops a removed peer: its route, neighbour and FDB entry', async () => {
    await syncN1([t.n2.self]);
    assert.equal(await route(t.n1.ns, '10.244.3.0/24'), undefined);
    assert.deepEqual(await neighOf(t.n1.ns), []);
    assert.deepEqual(await fdbOf(t.n1.ns), []);
    assert.equal((await route(t.n1.ns, '10.244.2.0/24'))?.gateway, '192.168.71.2');
  });

  it('a trusted sync applies a peer change without reading the kernel; a full sync still sees drift', async () => {
    await t.n1.datapath.sync(t.n1.self, [t.n2.self], config, { trustLastApplied: true });
    assert.deepEqual(
      (t.n1.datapath.lastPlan ?? []).map((o) => o.op),
      // The main-table route and the reply-table route (ADR 14) of the removed peer.
      ['route-del', 'route-del', 'neigh-del', 'fdb-del'],
    );
    assert.equal(await route(t.n1.ns, '10.244.3.0/24'), undefined);
    await nsIpBatch(t.n1.ns, ['route del 10.244.2.0/24']);
    await t.n1.datapath.sync(t.n1.self, [t.n2.self], config, { trustLastApplied: true });
    assert.deepEqual(t.n1.datapath.lastPlan, [], 'a trusted sync does not see hand-made drift');
    await t.n1.datapath.sync(t.n1.self, [t.n2.self], config);
    assert.equal((await route(t.n1.ns, '10.244.2.0/24'))?.gateway, '192.168.71.2');
  });

  it('recreates a deleted VXLAN device with its entries', async () => {
    await nsIpBatch(t.n1.ns, ['link del weft.vxlan']);
    await syncN1();
    assert.ok(await canPing(t.n1.ns, '10.244.3.1'));
    assert.equal((await neighOf(t.n1.ns)).length, 1);
  });

  it('keeps table inet weft: rewrites it when changed by hand, parses as JSON', async () => {
    await nsRun(t.n1.ns, 'nft', ['flush', 'chain', 'inet', 'weft', 'forward']);
    await syncN1();
    assert.deepEqual(
      (t.n1.datapath.lastPlan ?? []).map((o) => o.op),
      ['nft-replace'],
    );
    const doc = JSON.parse(await nftTable(t.n1.ns)) as { nftables: Record<string, { comment?: string }>[] };
    const comments = doc.nftables.flatMap((i) => (i.rule?.comment ? [i.rule.comment] : []));
    assert.deepEqual(comments.sort(), [
      'weft-forward-in',
      'weft-forward-out',
      'weft-masquerade',
      'weft-node-snat 192.168.71.1 weft.vxlan mark-0',
      'weft-tunnel-mark weft.vxlan 0x1000',
      'weft-tunnel-reply 0x1000',
    ]);
  });

  it('masquerades pod traffic leaving the cluster, and not when turned off or excluded', async () => {
    const pod = await set.create('pod');
    try {
      await run('ip', [
        '-n',
        pod,
        'link',
        'add',
        'eth0',
        'type',
        'veth',
        'peer',
        'name',
        'vpod',
        'netns',
        t.n1.ns,
      ]);
      // A port with a lower MAC would become the bridge's address were it not fixed.
      await nsIpBatch(t.n1.ns, [
        'link set vpod address 02:00:00:00:00:01',
        'link set vpod master weft0',
        'link set vpod up',
      ]);
      assert.equal(await linkMac(t.n1.ns, 'weft0'), bridgeMac('192.168.71.1'));
      await nsIpBatch(pod, [
        'link set eth0 up',
        'addr add 10.244.1.5/24 dev eth0',
        'route add default via 10.244.1.1',
      ]);
      // The router has no route to 10.244.0.0/16: only a masqueraded ping gets its answer back.
      assert.ok(await canPing(pod, '192.168.72.254'), 'masqueraded pod traffic must get through');
      await syncN1(undefined, testConfig('auto', { nonMasqueradeCIDRs: ['192.168.72.0/24'] }));
      assert.equal(
        await canPing(pod, '192.168.72.254', 1),
        false,
        'excluded destination must not be masqueraded',
      );
      await syncN1(undefined, testConfig('auto', { masquerade: false }));
      assert.equal(await canPing(pod, '192.168.72.254', 1), false, 'masquerade off');
      assert.ok(!(await nftTable(t.n1.ns)).includes('masquerade'));
      assert.ok(await canPing(pod, '10.244.3.1'), 'pod reaches a remote node through VXLAN');
    } finally {
      await run('ip', ['netns', 'del', pod]);
    }
  });

  it('uninstall removes devices, own routes and the nft table, keeps the rest, and is safe twice', async () => {
    await nsIpBatch(t.n1.ns, ['route add 10.244.98.0/24 via 192.168.71.2 proto static']);
    await t.n1.datapath.uninstall(config);
    await t.n1.datapath.uninstall(config);
    const links = (await nsIpJson<{ ifname: string }>(t.n1.ns, ['link', 'show'])).map((l) => l.ifname);
    assert.ok(!links.includes('weft0') && !links.includes('weft.vxlan'), `left: ${links.join(',')}`);
    assert.deepEqual(
      (await routesOf(t.n1.ns)).filter((r) => r.protocol === PROTO),
      [],
    );
    assert.equal((await route(t.n1.ns, '10.244.98.0/24'))?.protocol, 'static');
    await assert.rejects(nftTable(t.n1.ns), /No such file or directory/);
    await nsIpBatch(t.n1.ns, ['route del 10.244.98.0/24']);
  });
});
