/**
 * Real agents in a real local cluster (3 nodes: node1 and node2 on subnet A,
 * node3 on subnet B): auto mode picks direct routes on the same subnet and
 * VXLAN across; drift is repaired; deleted Nodes vanish within 1 s; a restart
 * changes nothing; the backend can be switched to vxlan. No gossip key exists
 * (no weft-controller), so `weft status` reports gossip off and why.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Cluster, type ClusterNode, startCluster } from '../cluster/index.js';
import {
  type AgentRun,
  agentGet,
  gatewayOf,
  isWeftRoute,
  metricValue,
  pingFrom,
  prepareAgentCredentials,
  readLog,
  routes,
  startAgent,
  stopAll,
  WEFT_PROTO,
  waitAgentReady,
  waitFor,
  writeNetConf,
} from './fixtures/agent-cluster.js';
import { peerOf, runWeftStatus, statusOf } from './fixtures/gossip-cluster.js';

const RESYNC_SECONDS = 1;

describe('agent datapath in a local cluster', { timeout: 300_000 }, () => {
  let cluster: Cluster;
  let kubeconfig: string;
  let cidrs: Map<string, string[]>;
  let autoConf: string;
  const runs = new Map<string, AgentRun>();
  const node = (i: number) => cluster.nodes[i - 1] as ClusterNode;
  const podCIDR = (n: ClusterNode) => cidrs.get(n.name)?.[0] as string;

  async function startAndWaitReady(n: ClusterNode, netConf: string): Promise<AgentRun> {
    const run = startAgent(cluster, n, { netConf, kubeconfig });
    runs.set(n.name, run);
    await waitAgentReady(cluster, n);
    return run;
  }

  before(async () => {
    cluster = await startCluster({ name: 'agdp', nodes: 3, subnets: 2 });
    cidrs = await cluster.waitForPodCIDRs();
    kubeconfig = await prepareAgentCredentials(cluster);
    autoConf = writeNetConf(cluster, 'auto', { network: '10.244.0.0/16', resyncSeconds: RESYNC_SECONDS });
    await Promise.all(cluster.nodes.map((n) => startAndWaitReady(n, autoConf)));
  });

  after(async () => {
    await stopAll(runs.values());
    await cluster?.stop();
  });

  it('reaches every other node bridge gateway from every node', async () => {
    for (const from of cluster.nodes) {
      for (const to of cluster.nodes) {
        if (to === from) continue;
        const gw = gatewayOf(podCIDR(to));
        assert.ok(await pingFrom(cluster, from, gw), `${from.name} cannot ping ${to.name}'s bridge ${gw}`);
      }
    }
  });

  it('auto mode: same-subnet peer by a direct route, cross-subnet peer through weft.vxlan', async () => {
    const table = await routes(cluster, node(1));
    const toNode2 = table.find((r) => r.dst === podCIDR(node(2)));
    const toNode3 = table.find((r) => r.dst === podCIDR(node(3)));
    assert.equal(toNode2?.gateway, node(2).ip, JSON.stringify(toNode2));
    assert.equal(toNode2?.dev, 'eth0');
    assert.ok(toNode2 && isWeftRoute(toNode2), 'direct route carries Weft protocol');
    assert.equal(toNode3?.dev, 'weft.vxlan', JSON.stringify(toNode3));
    assert.ok(toNode3?.flags?.includes('onlink'));
    assert.ok(toNode3 && isWeftRoute(toNode3));
    const fromNode3 = await routes(cluster, node(3));
    assert.equal(fromNode3.find((r) => r.dst === podCIDR(node(1)))?.dev, 'weft.vxlan');
  });

  it('sets NetworkUnavailable=False (WeftIsUp) on every Node', async () => {
    for (const n of cluster.nodes) {
      const obj = JSON.parse(await cluster.kubectl(['get', 'node', n.name, '-o', 'json']));
      const cond = obj.status.conditions?.find((c: { type: string }) => c.type === 'NetworkUnavailable');
      assert.equal(cond?.status, 'False', `${n.name}: ${JSON.stringify(obj.status.conditions)}`);
      assert.equal(cond?.reason, 'WeftIsUp');
    }
  });

  it('exposes metrics and health', async () => {
    const metrics = await agentGet(cluster, node(1), '/metrics');
    assert.equal(metrics.status, 200);
    assert.equal(metricValue(metrics.body, 'weft_peers'), 2);
    assert.equal(metricValue(metrics.body, 'weft_routes', '{backend="hostgw",family="ipv4"}'), 1);
    assert.equal(metricValue(metrics.body, 'weft_routes', '{backend="vxlan",family="ipv4"}'), 1);
    assert.match(metrics.body, /weft_build_info\{version="[^"]+"\} 1/);
    assert.ok((metricValue(metrics.body, 'weft_last_reconcile_success_timestamp_seconds') ?? 0) > 0);
    assert.equal((await agentGet(cluster, node(1), '/healthz')).status, 200);
  });

  it('weft status without a gossip key: the agent itself reports readiness, backend and underlay; gossip off', async () => {
    const s = await statusOf(cluster, node(1));
    assert.equal(s.node.ready, true);
    assert.equal(s.node.backend, 'auto');
    assert.equal(s.node.underlayIP, node(1).ip);
    assert.equal(s.node.bootId, null);
    assert.deepEqual([s.gossip.state, s.gossip.reason], ['off', 'no-key']);
    for (const [peer, route] of [
      [node(2), 'direct'],
      [node(3), 'vxlan'],
    ] as const) {
      const p = peerOf(s, peer.name);
      assert.deepEqual(
        [p?.state, p?.route, p?.underlayIP, p?.source],
        ['gossip-off', route, peer.ip, 'api'],
        peer.name,
      );
    }
    const text = await runWeftStatus(cluster, node(1), false);
    assert.match(text, new RegExp(`^Node: +${node(1).name}$`, 'm'));
    assert.match(
      text,
      new RegExp(`^Backend: +auto +MTU: \\d+ +Underlay: ${node(1).ip.replaceAll('.', '\\.')} `, 'm'),
    );
    assert.match(
      text,
      /^Gossip: +off — no key: \S+ not found \(Secret weft-system\/weft-gossip-key missing or not mounted yet; weft-controller creates it\)$/m,
    );
    assert.match(text, /^Peers: 2 \(liveness unknown: gossip off\)$/m);
    assert.match(
      text,
      new RegExp(`^${node(3).name} +gossip-off +vxlan +${node(3).ip.replaceAll('.', '\\.')} `, 'm'),
    );
  });

  it('repairs drift within one resync and sweeps only its own strays', async () => {
    const n1 = node(1);
    const target = podCIDR(node(3));
    const del = await cluster.execInNode(n1, ['ip', 'route', 'del', target]);
    assert.equal(del.code, 0, del.stderr);
    const stray = '10.244.200.0/24';
    const foreign = '10.244.201.0/24';
    for (const [dst, proto] of [
      [stray, String(WEFT_PROTO)],
      [foreign, 'static'],
    ] as const) {
      const add = await cluster.execInNode(n1, [
        'ip',
        'route',
        'add',
        dst,
        'via',
        n1.gateway,
        'proto',
        proto,
      ]);
      assert.equal(add.code, 0, add.stderr);
    }
    const started = Date.now();
    await waitFor(
      'route repaired and stray removed',
      async () => {
        const table = await routes(cluster, n1);
        return table.some((r) => r.dst === target) && !table.some((r) => r.dst === stray);
      },
      RESYNC_SECONDS * 1000 * 1.1 + 1500,
      50,
    );
    const tookMs = Date.now() - started;
    const table = await routes(cluster, n1);
    assert.ok(
      table.some((r) => r.dst === foreign),
      'a route with another protocol is left alone',
    );
    await cluster.execInNode(n1, ['ip', 'route', 'del', foreign]);
    assert.ok(tookMs < RESYNC_SECONDS * 1000 * 1.1 + 1500, `repair took ${tookMs} ms`);
  });

  it('removes a deleted Node from every agent within 1 s', async () => {
    const ghost = 'agdp-ghost';
    await cluster.kubectl(['create', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: ghost },
        spec: { podCIDR: '10.244.250.0/24', podCIDRs: ['10.244.250.0/24'] },
        status: { addresses: [{ type: 'InternalIP', address: '172.28.2.99' }] },
      }),
    });
    const hasGhost = async (n: ClusterNode) =>
      (await routes(cluster, n)).some((r) => r.dst === '10.244.250.0/24');
    for (const n of cluster.nodes)
      await waitFor(`${n.name} has the ghost route`, () => hasGhost(n), 10_000, 50);
    const deleted = Date.now();
    await cluster.kubectl(['delete', 'node', ghost, '--wait=false']);
    const gone = await Promise.all(
      cluster.nodes.map(async (n) => {
        await waitFor(`${n.name} drops the ghost route`, async () => !(await hasGhost(n)), 5000, 25);
        return Date.now() - deleted;
      }),
    );
    for (const ms of gone) assert.ok(ms <= 1000, `ghost entries gone after ${gone.join(', ')} ms`);
  });

  it('a restarted agent finds the kernel correct: its first plan is empty', async () => {
    const n2 = node(2);
    const old = runs.get(n2.name) as AgentRun;
    await old.proc.stop('SIGTERM');
    const exit = await old.proc.exited;
    assert.equal(exit.code, 0, `graceful stop exits 0 (${JSON.stringify(exit)})`);
    assert.ok(readLog(old).some((l) => l.msg === 'weft agent stopped'));
    const before = JSON.stringify((await routes(cluster, n2)).filter(isWeftRoute));
    const run = await startAndWaitReady(n2, autoConf);
    const synced = await waitFor('first sync log', () =>
      readLog(run).find((l) => l.msg === 'datapath synced'),
    );
    assert.equal(synced.changes, 0, JSON.stringify(synced));
    const metrics = await agentGet(cluster, n2, '/metrics');
    assert.equal(metricValue(metrics.body, 'weft_datapath_changes_total'), 0);
    assert.equal(JSON.stringify((await routes(cluster, n2)).filter(isWeftRoute)), before);
  });

  it('switching every agent to the vxlan backend moves all peers onto weft.vxlan', async () => {
    const vxlanConf = writeNetConf(cluster, 'vxlan', {
      network: '10.244.0.0/16',
      backend: { type: 'vxlan' },
      resyncSeconds: RESYNC_SECONDS,
    });
    await stopAll(runs.values());
    await Promise.all(cluster.nodes.map((n) => startAndWaitReady(n, vxlanConf)));
    for (const from of cluster.nodes) {
      const table = await routes(cluster, from);
      for (const to of cluster.nodes) {
        if (to === from) continue;
        const route = table.find((r) => r.dst === podCIDR(to));
        assert.equal(route?.dev, 'weft.vxlan', `${from.name} → ${to.name}: ${JSON.stringify(route)}`);
        assert.ok(await pingFrom(cluster, from, gatewayOf(podCIDR(to))), `${from.name} → ${to.name} ping`);
      }
    }
  });
});
