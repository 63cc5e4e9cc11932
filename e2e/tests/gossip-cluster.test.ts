/**
 * Gossip between real agents in a local cluster (node1, node2 on subnet A, node3
 * on subnet B) with a real cluster key file and short failure-detection timers:
 * the mesh converges; a killed agent is marked dead within the dead timeout and
 * comes back with a new boot id; `weft status` shows peers with state and route
 * kind; forged, replayed, oversized and garbage frames are counted and harmless;
 * a 60 s API outage loses no ping, an agent restarted during it keeps its routes
 * (cache + gossip) and rejoins, and the Node watchers resume without restarts.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FrameCodec } from '../../agent/src/gossip/frame.js';
import { type Cluster, type ClusterNode, startCluster } from '../cluster/index.js';
import {
  type AgentRun,
  agentGet,
  gatewayOf,
  metricValue,
  prepareAgentCredentials,
  readLog,
  routes,
  startAgent,
  stopAll,
  waitAgentReady,
  waitFor,
  writeNetConf,
} from './fixtures/agent-cluster.js';
import {
  type AgentStatus,
  peerOf,
  runWeftStatus,
  sendRawFrames,
  statusOf,
  writeGossipKey,
} from './fixtures/gossip-cluster.js';

const SUSPECT_S = 2;
const DEAD_S = 4;

describe('gossip between agents in a local cluster', { timeout: 600_000 }, () => {
  let cluster: Cluster;
  let kubeconfig: string;
  let conf: string;
  let keyFile: string;
  let cidrs: Map<string, string[]>;
  const runs = new Map<string, AgentRun>();
  const node = (i: number) => cluster.nodes[i - 1] as ClusterNode;
  const others = (n: ClusterNode) => cluster.nodes.filter((o) => o !== n);
  const podCIDR = (n: ClusterNode) => cidrs.get(n.name)?.[0] as string;

  function start(n: ClusterNode): AgentRun {
    const run = startAgent(cluster, n, {
      netConf: conf,
      kubeconfig,
      env: {
        WEFT_GOSSIP_KEY_FILE: keyFile,
        WEFT_GOSSIP_SUSPECT_SECONDS: String(SUSPECT_S),
        WEFT_GOSSIP_DEAD_SECONDS: String(DEAD_S),
      },
    });
    runs.set(n.name, run);
    return run;
  }

  /** Polls until `n` sees `peer` in `state` (and with a boot id other than `notBoot`). */
  async function waitPeerState(n: ClusterNode, peer: ClusterNode, state: string, notBoot?: string) {
    return waitFor(
      `${n.name} sees ${peer.name} ${state}`,
      async () => {
        const p = peerOf(await statusOf(cluster, n), peer.name);
        return p?.state === state && (notBoot === undefined || p.bootId !== notBoot) ? p : undefined;
      },
      30_000,
      200,
    );
  }

  async function waitConverged(): Promise<Map<string, AgentStatus>> {
    return waitFor(
      'every agent sees every other alive with its current boot id',
      async () => {
        const all = new Map<string, AgentStatus>();
        for (const n of cluster.nodes) all.set(n.name, await statusOf(cluster, n));
        for (const [name, s] of all) {
          if (!s.node.ready) return undefined;
          for (const o of cluster.nodes.filter((x) => x.name !== name)) {
            const p = peerOf(s, o.name);
            if (p?.state !== 'alive' || p.bootId !== all.get(o.name)?.node.bootId) return undefined;
          }
        }
        return all;
      },
      60_000,
      250,
    );
  }

  before(async () => {
    cluster = await startCluster({ name: 'gsp', nodes: 3, subnets: 2 });
    cidrs = await cluster.waitForPodCIDRs();
    kubeconfig = await prepareAgentCredentials(cluster);
    conf = writeNetConf(cluster, 'auto', { network: '10.244.0.0/16', resyncSeconds: 2 });
    keyFile = writeGossipKey(cluster);
  });

  after(async () => {
    await stopAll(runs.values());
    await cluster?.startComponent('kube-apiserver').catch(() => undefined);
    // WEFT_E2E_KEEP_LOGS=1 leaves <runDir>/logs behind for a post-mortem.
    await cluster?.stop({ keepLogs: process.env.WEFT_E2E_KEEP_LOGS === '1' });
  });

  it('all agents converge to the same view', async () => {
    const t0 = Date.now();
    for (const n of cluster.nodes) start(n);
    const all = await waitConverged();
    console.log(`# converged ${Date.now() - t0} ms after starting 3 agents`);
    const boots = [...all.values()].map((s) => s.node.bootId);
    assert.equal(new Set(boots).size, 3, 'distinct boot ids');
    for (const s of all.values()) assert.equal(s.node.ready, true);
  });

  it('weft status lists peers with state and route kind (text and JSON)', async () => {
    const s = await waitFor('routes in status', async () => {
      const st = await statusOf(cluster, node(1));
      return st.peers.every((p) => p.route !== null) ? st : undefined;
    });
    assert.equal(peerOf(s, node(2).name)?.route, 'direct', 'same subnet');
    assert.equal(peerOf(s, node(3).name)?.route, 'vxlan', 'other subnet');
    assert.equal(peerOf(s, node(3).name)?.underlayIP, node(3).ip);
    const text = await runWeftStatus(cluster, node(1), false);
    assert.match(text, new RegExp(`^Node: +${node(1).name}$`, 'm'));
    assert.match(text, /^Backend: +auto +MTU: \d+/m);
    assert.match(text, /^Gossip: +on — port 9743$/m);
    assert.match(text, /^Peers: 2 \(2 alive\)$/m);
    assert.match(text, /^NAME +STATE +ROUTE +UNDERLAY +LAST SEEN +RTT$/m);
    assert.match(
      text,
      new RegExp(`^${node(2).name} +alive +direct +${node(2).ip.replaceAll('.', '\\.')} `, 'm'),
    );
    assert.match(
      text,
      new RegExp(`^${node(3).name} +alive +vxlan +${node(3).ip.replaceAll('.', '\\.')} `, 'm'),
    );
  });

  it('a killed agent is marked dead within the dead timeout and rejoins with a new boot id', async () => {
    const victim = node(3);
    const oldBoot = (await statusOf(cluster, victim)).node.bootId as string;
    const killedAt = Date.now();
    await runs.get(victim.name)?.proc.stop('SIGKILL');
    const deadAfter = await Promise.all(
      others(victim).map(async (n) => {
        await waitPeerState(n, victim, 'dead');
        return Date.now() - killedAt;
      }),
    );
    console.log(`# dead after ${deadAfter.join(', ')} ms (configured ${DEAD_S * 1000} ms)`);
    for (const ms of deadAfter) {
      assert.ok(ms >= DEAD_S * 1000 - 1500, `not before the timeout (${ms} ms)`);
      assert.ok(ms <= DEAD_S * 1000 + 3000, `within the timeout plus polling (${ms} ms)`);
    }
    const restartedAt = Date.now();
    start(victim);
    const back = await Promise.all(others(victim).map((n) => waitPeerState(n, victim, 'alive', oldBoot)));
    console.log(`# alive again ${Date.now() - restartedAt} ms after restart`);
    const newBoot = (await statusOf(cluster, victim)).node.bootId;
    for (const p of back) assert.equal(p.bootId, newBoot);
    assert.notEqual(newBoot, oldBoot);
  });

  it('forged, replayed, oversized and garbage frames are rejected, counted, and harmless', async () => {
    const target = node(1);
    const codec = new FrameCodec({ key: Buffer.from(readFileSync(keyFile, 'utf8').trim()) });
    const valid = codec.encode('ping', node(2).name, {});
    const forged = `${'A'.repeat(43)}${valid.slice(43)}`;
    const rejected = async (reason: string) =>
      metricValue(
        (await agentGet(cluster, target, '/metrics')).body,
        'weft_gossip_rejected_total',
        `{reason="${reason}"}`,
      ) ?? 0;
    const before = {
      bad_mac: await rejected('bad_mac'),
      replay: await rejected('replay'),
      malformed: await rejected('malformed'),
      oversized: await rejected('oversized'),
    };
    await sendRawFrames(cluster, node(2), target.ip, [
      { data: forged },
      { data: valid },
      { data: valid },
      { data: 'garbage' },
      { data: Buffer.from('\x00\xff\x10 not a frame').toString('base64'), binary: true },
    ]);
    await sendRawFrames(cluster, node(2), target.ip, [{ data: 'x'.repeat(300 * 1024) }]);
    await waitFor('rejections counted', async () => {
      const now = {
        bad_mac: await rejected('bad_mac'),
        replay: await rejected('replay'),
        malformed: await rejected('malformed'),
        oversized: await rejected('oversized'),
      };
      return (
        now.bad_mac >= before.bad_mac + 1 &&
        now.replay >= before.replay + 1 &&
        now.malformed >= before.malformed + 2 &&
        now.oversized >= before.oversized + 1
      );
    });
    assert.equal((await agentGet(cluster, target, '/healthz')).status, 200);
    await waitConverged();
  });

  it('a 60 s API outage: no ping lost, a restarted agent keeps its routes and rejoins, watchers resume', async () => {
    const [n1, n2, n3] = [node(1), node(2), node(3)];
    const n1Run = runs.get(n1.name) as AgentRun;
    const syncedBefore = readLog(n1Run).filter((l) => l.msg === 'node list synced').length;
    await cluster.stopComponent('kube-apiserver');
    const outageStart = Date.now();
    const ping = cluster.execInNode(
      n1,
      ['ping', '-q', '-i', '0.2', '-c', '300', '-W', '1', gatewayOf(podCIDR(n3))],
      {
        timeoutMs: 120_000,
      },
    );
    await new Promise((r) => setTimeout(r, 5000));

    // Restart node2's agent with a cache that lacks node3: node3 can only come back through gossip.
    const oldBoot = (await statusOf(cluster, n2)).node.bootId as string;
    await runs.get(n2.name)?.proc.stop('SIGTERM');
    await waitPeerState(n1, n2, 'left');
    const cacheFile = join(n2.dirs.state, 'cluster-view.json');
    const cache = JSON.parse(readFileSync(cacheFile, 'utf8')) as { nodes: Array<{ name: string }> };
    cache.nodes = cache.nodes.filter((n) => n.name !== n3.name);
    writeFileSync(cacheFile, JSON.stringify(cache));
    const run = start(n2);
    await waitAgentReady(cluster, n2);
    assert.ok(readLog(run).some((l) => l.msg === 'cluster view restored from cache'));
    await Promise.all([waitPeerState(n1, n2, 'alive', oldBoot), waitPeerState(n3, n2, 'alive', oldBoot)]);
    const viaGossip = await waitFor(`${n2.name} routes ${n3.name}'s podCIDR learnt from gossip`, async () =>
      (await routes(cluster, n2)).find((r) => r.dst === podCIDR(n3)),
    );
    assert.equal(viaGossip.dev, 'weft.vxlan');
    assert.ok((await routes(cluster, n2)).some((r) => r.dst === podCIDR(n1) && r.gateway === n1.ip));
    assert.ok(readLog(run).some((l) => l.msg === 'peers from gossip'));
    const rejoinedMs = Date.now() - outageStart;

    const waitLeft = 60_000 - (Date.now() - outageStart);
    if (waitLeft > 0) await new Promise((r) => setTimeout(r, waitLeft));
    await cluster.startComponent('kube-apiserver');
    const result = await ping;
    const loss = /(\d+(?:\.\d+)?)% packet loss/.exec(result.stdout)?.[1];
    console.log(
      `# outage ${Date.now() - outageStart} ms; n2 rejoined at +${rejoinedMs} ms; ping: ${result.stdout.trim().split('\n').slice(-2).join(' | ')}`,
    );
    assert.equal(loss, '0', result.stdout);

    // Watchers resume on their own: node1's agent (never restarted) relists and follows a deletion.
    await waitFor(
      'node1 relisted after the outage',
      () => readLog(n1Run).filter((l) => l.msg === 'node list synced').length > syncedBefore,
      90_000,
      250,
    );
    await cluster.kubectl(['delete', 'node', n3.name, '--wait=false']);
    await waitFor(
      `${n1.name} drops the route to the deleted ${n3.name}`,
      async () => !(await routes(cluster, n1)).some((r) => r.dst === podCIDR(n3)),
      30_000,
      250,
    );
    const alive = await Promise.race([n1Run.proc.exited.then(() => false), Promise.resolve(true)]);
    assert.ok(alive, 'node1 agent never restarted');
  });
});
