/**
 * Pods on a real local cluster (3 nodes, 2 subnets, backend auto): real agents install
 * the shim and the conflist, pods are created by running the INSTALLED conflist (weft,
 * then portmap) inside each node's namespace as a container runtime does, and the
 * Kubernetes network model is checked end to end.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cidrContains, parseCidr, parseIpv4 } from '../../common/cidr.js';
import { AGENT_HTTP_PORT, REPO, startAgent } from '../cluster/agents.js';
import { type EchoServer, seenSource, startEchoServer } from '../cluster/echo-server.js';
import { runCommand } from '../cluster/exec.js';
import { type Cluster, destroyCluster, EXTERNAL, netnsPrefix, startCluster } from '../cluster/index.js';
import {
  addPod,
  CONFLIST_NAME,
  checkPod,
  deletePod,
  leftoverVeths,
  type Pod,
  podPing,
  podPingMatrix,
} from '../cluster/pods.js';
import {
  type AgentRun,
  agentGet,
  metricValue,
  prepareAgentCredentials,
  readLog,
  stopAll,
  waitFor,
  writeNetConf,
} from './fixtures/agent-cluster.js';

const NAME = 'cni';
const SHIM = join(REPO, 'build/weft-cni-shim');
const ms = (t0: number) => Math.round(performance.now() - t0);

describe('CNI on the local cluster: pods through the installed conflist', { timeout: 300_000 }, () => {
  let cluster: Cluster;
  let cidrs: Map<string, string[]>;
  const runs: AgentRun[] = [];
  let agentConf: { netConf: string; kubeconfig: string };
  const pods: Pod[] = [];
  const servers: EchoServer[] = [];
  const podsOn = (i: number) => pods.filter((p) => p.node === cluster.nodes[i]);

  before(async () => {
    if (!existsSync(SHIM)) await runCommand(['bash', join(REPO, 'agent/cni-shim/build.sh'), SHIM]);
    await destroyCluster(NAME);
    cluster = await startCluster({ name: NAME, nodes: 3, subnets: 2 });
    cidrs = await cluster.waitForPodCIDRs();
    const kubeconfig = await prepareAgentCredentials(cluster);
    const netConf = writeNetConf(cluster, 'auto', { network: '10.244.0.0/16', backend: { type: 'auto' } });
    agentConf = { netConf, kubeconfig };
    for (const n of cluster.nodes) runs.push(startAgent(cluster, n, { netConf, kubeconfig }));
    for (const n of cluster.nodes) {
      await waitFor(`${n.name} conflist`, () => existsSync(join(n.dirs.cniConf, CONFLIST_NAME)), 60_000);
    }
  });

  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await Promise.all(pods.map((p) => deletePod(p).catch(() => undefined)));
    await stopAll(runs);
    await cluster?.stop();
  });

  it("each agent installs the shim and a conflist chaining the node's portmap at CNI 1.1.0, pointing at its socket", () => {
    for (const n of cluster.nodes) {
      assert.ok(readFileSync(join(n.dirs.cniBin, 'weft')).equals(readFileSync(SHIM)), `${n.name} shim`);
      assert.ok(existsSync(join(n.dirs.cniBin, 'portmap')), `${n.name} portmap`);
      const conflist = JSON.parse(readFileSync(join(n.dirs.cniConf, CONFLIST_NAME), 'utf8'));
      assert.ok(
        conflist.cniVersion === '1.1.0' || conflist.cniVersions?.includes('1.1.0'),
        `${n.name}: conflist offers 1.1.0: ${JSON.stringify(conflist)}`,
      );
      assert.deepEqual(
        conflist.plugins.map((p: { type: string }) => p.type),
        ['weft', 'portmap'],
      );
      assert.equal(conflist.plugins[0].socket, join(n.dirs.run, 'cni.sock'));
    }
  });

  it('ADD through weft then portmap gives 2 pods per node addresses from the node podCIDR', async (t) => {
    const t0 = performance.now();
    const made = await Promise.all(
      cluster.nodes.flatMap((n, i) =>
        ['a', 'b'].map((id) =>
          addPod(n, id, {
            ...(i === 0 && id === 'a'
              ? { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' as const }] }
              : {}),
          }),
        ),
      ),
    );
    pods.push(...made);
    t.diagnostic(`6 concurrent ADDs through the conflist: ${ms(t0)} ms`);
    for (const p of pods) {
      const cidr = cidrs.get(p.node.name)?.[0] as string;
      assert.ok(cidrContains(parseCidr(cidr), parseIpv4(p.ip)), `${p.netns} ${p.ip} in ${cidr}`);
      assert.ok(p.netns.startsWith(netnsPrefix(NAME)));
    }
    assert.equal(new Set(pods.map((p) => p.ip)).size, 6, 'distinct addresses');
  });

  it('every pod reaches every other pod (30 pairs) and every node', async (t) => {
    const t0 = performance.now();
    const matrix = await podPingMatrix(cluster, pods);
    t.diagnostic(`pod→pod matrix, ${matrix.length} pairs in parallel: ${ms(t0)} ms`);
    assert.equal(matrix.length, 30);
    assert.deepEqual(
      matrix.filter((m) => !m.ok),
      [],
    );
    const t1 = performance.now();
    const toNodes = await Promise.all(
      pods.flatMap((p) =>
        cluster.nodes.map(async (n) => ({ from: p.netns, to: n.ip, ok: await podPing(cluster, p, n.ip) })),
      ),
    );
    t.diagnostic(`pod→node, ${toNodes.length} pairs in parallel: ${ms(t1)} ms`);
    assert.deepEqual(
      toNodes.filter((m) => !m.ok),
      [],
    );
  });

  it('egress is masqueraded to the node IP; pod→pod keeps the pod source IP across nodes', async () => {
    servers.push(await startEchoServer(cluster.external.netns, 8000));
    for (const p of pods) {
      assert.equal(await seenSource(cluster, p.netns, EXTERNAL.ip, 8000), p.node.ip, `${p.netns} → external`);
    }
    const [n1a] = podsOn(0);
    const [n2a] = podsOn(1);
    const [n3a] = podsOn(2);
    assert.ok(n1a && n2a && n3a);
    servers.push(await startEchoServer(n3a.netns, 8001));
    servers.push(await startEchoServer(n2a.netns, 8001));
    assert.equal(await seenSource(cluster, n1a.netns, n3a.ip, 8001), n1a.ip, 'VXLAN peer (other subnet)');
    assert.equal(await seenSource(cluster, n1a.netns, n2a.ip, 8001), n1a.ip, 'direct peer (same subnet)');
    assert.equal(await seenSource(cluster, n3a.netns, n2a.ip, 8001), n3a.ip, 'VXLAN peer, other way');
  });

  it('a hostPort on node1 (portmap) reaches the pod server from node3', async () => {
    const [n1a] = podsOn(0);
    const node1 = cluster.nodes[0];
    const node3 = cluster.nodes[2];
    assert.ok(n1a && node1 && node3);
    servers.push(await startEchoServer(n1a.netns, 80));
    const seen = await seenSource(cluster, node3.netns, node1.ip, 8080);
    assert.equal(seen, node3.ip, 'served by the pod, client address kept');
    const other = podsOn(0)[1];
    assert.ok(other);
    assert.equal(
      await seenSource(cluster, node3.netns, other.ip, 80),
      undefined,
      'no server on the other pod',
    );
  });

  it('CHECK passes for every pod through the whole conflist', async () => {
    const mapped = podsOn(0)[0];
    assert.ok(mapped);
    // The hostPort pod too: the node's current portmap checks its rules without the old
    // ip6tables error (containernetworking/plugins#819).
    await Promise.all(pods.map((p) => checkPod(p)));
  });

  it('DEL removes every pod, DEL again succeeds, nothing is left and IPAM is empty', async (t) => {
    const t0 = performance.now();
    await Promise.all(pods.map((p) => deletePod(p)));
    t.diagnostic(`6 concurrent DELs through the conflist: ${ms(t0)} ms`);
    await Promise.all(pods.map((p) => deletePod(p)));
    const left = pods.splice(0);
    const { stdout } = await runCommand(['ip', 'netns', 'list']);
    for (const p of left) assert.ok(!stdout.split('\n').some((l) => l.split(' ')[0] === p.netns), p.netns);
    for (const n of cluster.nodes) {
      assert.deepEqual(await leftoverVeths(cluster, n), [], `${n.name} veths`);
      const metrics = await agentGet(cluster, n, '/metrics');
      assert.equal(metricValue(metrics.body, 'weft_ipam_allocated', '{network="weft"}'), 0, n.name);
      assert.equal(metrics.status, 200, `metrics on :${AGENT_HTTP_PORT}`);
    }
  });

  it('a restarted agent leaves its unchanged CNI files alone (mtimes) and serves again', async (t) => {
    const node2 = cluster.nodes[1];
    const old = runs[1];
    assert.ok(node2 && old);
    const files = ['weft', 'portmap'].map((f) => join(node2.dirs.cniBin, f));
    files.push(join(node2.dirs.cniConf, CONFLIST_NAME));
    const before = files.map((f) => statSync(f).mtimeMs);
    await old.proc.stop('SIGTERM', 5000);
    const t0 = performance.now();
    const again = startAgent(cluster, node2, {
      netConf: agentConf.netConf,
      kubeconfig: agentConf.kubeconfig,
    });
    runs[1] = again;
    const installed = await waitFor('CNI files checked after restart', () =>
      readLog(again).find((l) => l.msg === 'CNI files installed'),
    );
    t.diagnostic(`restart until the CNI files were checked: ${ms(t0)} ms`);
    assert.equal(installed.shimWritten, false);
    assert.equal(installed.conflistWritten, false);
    assert.deepEqual(
      files.map((f) => statSync(f).mtimeMs),
      before,
    );
    const pod = await addPod(node2, 'c');
    pods.push(pod);
    assert.ok(await podPing(cluster, pod, cluster.nodes[0]?.ip as string), 'new pod after restart works');
    await deletePod(pod);
    pods.splice(pods.indexOf(pod), 1);
  });
});
