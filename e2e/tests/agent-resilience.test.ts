/**
 * The agent under adverse starts, in a real local cluster (node1 on subnet A,
 * node2 on subnet B): an invalid net-conf is refused with the field named and
 * nothing programmed; with the API server down the agent programs its node from
 * the disk cache, keeps serving, and resumes watching when the API returns;
 * --uninstall removes everything Weft made and is safe to run twice.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Cluster, type ClusterNode, startCluster } from '../cluster/index.js';
import {
  AGENT_MAIN,
  type AgentRun,
  agentGet,
  gatewayOf,
  isWeftRoute,
  NODE_BIN,
  pingFrom,
  prepareAgentCredentials,
  readLog,
  routes,
  startAgent,
  stopAll,
  uninstallEnv,
  waitAgentReady,
  waitFor,
  writeNetConf,
} from './fixtures/agent-cluster.js';

describe('agent resilience in a local cluster', { timeout: 300_000 }, () => {
  let cluster: Cluster;
  let kubeconfig: string;
  let cidrs: Map<string, string[]>;
  let conf: string;
  const runs = new Map<string, AgentRun>();
  const node = (i: number) => cluster.nodes[i - 1] as ClusterNode;
  const podCIDR = (n: ClusterNode) => cidrs.get(n.name)?.[0] as string;
  const hasLink = async (n: ClusterNode, dev: string) =>
    (await cluster.execInNode(n, ['ip', 'link', 'show', dev])).code === 0;

  async function startAndWaitReady(n: ClusterNode): Promise<AgentRun> {
    const run = startAgent(cluster, n, { netConf: conf, kubeconfig });
    runs.set(n.name, run);
    await waitAgentReady(cluster, n);
    return run;
  }

  before(async () => {
    cluster = await startCluster({ name: 'agrs', nodes: 2, subnets: 2 });
    cidrs = await cluster.waitForPodCIDRs();
    kubeconfig = await prepareAgentCredentials(cluster);
    conf = writeNetConf(cluster, 'auto', { network: '10.244.0.0/16', resyncSeconds: 2 });
  });

  after(async () => {
    await stopAll(runs.values());
    await cluster?.startComponent('kube-apiserver').catch(() => undefined);
    await cluster?.stop();
  });

  it('refuses an invalid net-conf: exit 2, one line naming the field, kernel untouched', async () => {
    const bad = writeNetConf(cluster, 'bad', { network: '10.244.0.0/16', backend: { type: 'udp' } });
    const run = startAgent(cluster, node(1), { netConf: bad, kubeconfig });
    const exit = await run.proc.exited;
    assert.equal(exit.code, 2);
    const lines = readLog(run);
    assert.equal(lines.length, 1, JSON.stringify(lines));
    assert.equal(lines[0]?.field, 'backend.type');
    assert.equal(lines[0]?.value, 'udp');
    assert.equal(await hasLink(node(1), 'weft0'), false, 'nothing was programmed');
  });

  it('programs from the disk cache when the API server is down at start, and resumes later', async () => {
    await Promise.all(cluster.nodes.map((n) => startAndWaitReady(n)));
    const n2 = node(2);
    const cacheFile = join(n2.dirs.state, 'cluster-view.json');
    await waitFor(
      'cache written',
      () => existsSync(cacheFile) && readFileSync(cacheFile, 'utf8').includes(node(1).name),
    );
    await runs.get(n2.name)?.proc.stop('SIGTERM');
    // Undo the node's datapath by hand so that only the cache can bring it back.
    const wipe = await cluster.execInNode(n2, ['ip', 'link', 'del', 'weft.vxlan']);
    assert.equal(wipe.code, 0, wipe.stderr);
    await cluster.execInNode(n2, ['ip', 'link', 'del', 'weft0']);
    assert.ok(!(await routes(cluster, n2)).some((r) => r.dst === podCIDR(node(1))));

    await cluster.stopComponent('kube-apiserver');
    const run = await startAndWaitReady(n2);
    const log = readLog(run);
    assert.ok(log.some((l) => l.msg === 'cluster view restored from cache' && l.nodes === 2));
    const toNode1 = (await routes(cluster, n2)).find((r) => r.dst === podCIDR(node(1)));
    assert.equal(toNode1?.dev, 'weft.vxlan');
    assert.ok(toNode1 && isWeftRoute(toNode1));
    assert.ok(await pingFrom(cluster, n2, gatewayOf(podCIDR(node(1)))), 'peer reachable during the outage');
    await waitFor('watch failure logged', () =>
      readLog(run).some((l) => l.msg === 'watch failed; restarting' && l.kind === 'node'),
    );
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal((await agentGet(cluster, n2, '/healthz')).status, 200, 'healthy while the API is down');
    assert.equal((await agentGet(cluster, n2, '/readyz')).status, 200);

    await cluster.startComponent('kube-apiserver');
    await waitFor(
      'node list synced after the API returns',
      () => readLog(run).some((l) => l.msg === 'node list synced'),
      60_000,
      200,
    );
    await waitFor(
      'the node condition set once the API is back (status patch retries with backoff ≤ 30 s)',
      () => readLog(run).some((l) => l.msg === 'node condition NetworkUnavailable=False set'),
      45_000,
      200,
    );
    const stillRunning = await Promise.race([run.proc.exited.then(() => false), Promise.resolve(true)]);
    assert.ok(stillRunning, 'the agent never restarted');
  });

  it('--uninstall removes devices, routes, nftables table, CNI files and state; twice is fine', async () => {
    await stopAll(runs.values());
    const n1 = node(1);
    mkdirSync(n1.dirs.cniConf, { recursive: true });
    mkdirSync(n1.dirs.cniBin, { recursive: true });
    writeFileSync(join(n1.dirs.cniConf, '10-weft.conflist'), '{}');
    writeFileSync(join(n1.dirs.cniConf, '99-other.conflist'), '{}');
    writeFileSync(join(n1.dirs.cniBin, 'weft'), '');
    assert.ok(await hasLink(n1, 'weft0'));
    const env = uninstallEnv(n1, conf);
    for (const round of [1, 2]) {
      const r = await cluster.execInNode(n1, [NODE_BIN, AGENT_MAIN, '--uninstall'], {
        env,
        timeoutMs: 30_000,
      });
      assert.equal(r.code, 0, `round ${round}: ${r.stderr}`);
      assert.equal(await hasLink(n1, 'weft0'), false);
      assert.equal(await hasLink(n1, 'weft.vxlan'), false);
      assert.deepEqual((await routes(cluster, n1)).filter(isWeftRoute), []);
      const nft = await cluster.execInNode(n1, ['nft', 'list', 'table', 'inet', 'weft']);
      assert.notEqual(nft.code, 0, 'nftables table inet weft is gone');
      assert.equal(existsSync(join(n1.dirs.cniConf, '10-weft.conflist')), false);
      assert.equal(existsSync(join(n1.dirs.cniBin, 'weft')), false);
      assert.equal(existsSync(n1.dirs.state), false);
      assert.ok(existsSync(join(n1.dirs.cniConf, '99-other.conflist')), 'foreign CNI config left alone');
    }
  });
});
