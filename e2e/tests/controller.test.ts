/**
 * weft-controller against a real local control plane whose kube-controller-manager runs
 * WITHOUT --allocate-node-cidrs: the controller (run as a process in the root netns with
 * the weft-controller ServiceAccount's token and the RBAC from manifests/, talking to the
 * API server through the harness's admin loopback forwarder) gives every Node a distinct
 * podCIDR, survives restarts without changes, releases deleted Nodes' podCIDRs, creates
 * the gossip key once, and elects one leader among two replicas with failover on kill -9.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cidrContainsCidr, cidrsOverlap, parseCidr } from '../../common/cidr.js';
import { type Cluster, startCluster } from '../cluster/index.js';
import { metricValue, NODE_BIN, REPO, readLog, waitFor } from './fixtures/agent-cluster.js';

const CONTROLLER_MAIN = join(REPO, 'dist/controller/src/main.js');
const NS = 'weft-system';
const LEASE_DURATION_MS = 15_000;

interface Replica {
  readonly identity: string;
  readonly proc: ChildProcess;
  readonly logFile: string;
  readonly exited: Promise<number | null>;
  port?: number;
}

interface NodeItem {
  metadata: { name: string; resourceVersion: string };
  spec: { podCIDR?: string; podCIDRs?: string[] };
}

describe('weft-controller in a local cluster without node IPAM', { timeout: 420_000 }, () => {
  let cluster: Cluster;
  let tmp: string;
  let kubeconfig: string;
  let netConfFile: string;
  const replicas: Replica[] = [];

  function startReplica(identity: string, opts: { netConfFromFile: boolean }): Replica {
    const logFile = join(tmp, `${identity}.log`);
    const fd = openSync(logFile, 'a');
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.NODE_TEST_CONTEXT; // else the child would speak the test runner's protocol
    Object.assign(env, {
      KUBECONFIG: kubeconfig,
      POD_NAME: identity,
      POD_NAMESPACE: NS,
      WEFT_HTTP_ADDR: '127.0.0.1:0',
      WEFT_LOG_LEVEL: 'debug',
    });
    if (opts.netConfFromFile) env.WEFT_NET_CONF = netConfFile;
    else delete env.WEFT_NET_CONF;
    const proc = spawn(NODE_BIN, [CONTROLLER_MAIN], { env, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    const replica: Replica = { identity, proc, logFile, exited };
    replicas.push(replica);
    return replica;
  }

  async function httpGet(r: Replica, path: string): Promise<{ status: number; body: string }> {
    r.port ??= await waitFor(`${r.identity} http port`, () => {
      const line = readLog(r).find((l) => l.msg === 'http listening');
      return typeof line?.port === 'number' ? line.port : undefined;
    });
    const res = await fetch(`http://127.0.0.1:${r.port}${path}`);
    return { status: res.status, body: await res.text() };
  }

  const metric = async (r: Replica, name: string, labels = '') =>
    metricValue((await httpGet(r, '/metrics')).body, name, labels);
  const isLeader = async (r: Replica) => (await metric(r, 'weft_controller_is_leader')) === 1;
  const logged = (r: Replica, msg: string) => readLog(r).filter((l) => l.msg === msg);

  async function nodes(): Promise<NodeItem[]> {
    return (JSON.parse(await cluster.kubectl(['get', 'nodes', '-o', 'json'])) as { items: NodeItem[] }).items;
  }
  async function podCidrOf(name: string): Promise<string | undefined> {
    return (await nodes()).find((n) => n.metadata.name === name)?.spec.podCIDR;
  }
  async function leaseHolder(): Promise<string> {
    const lease = JSON.parse(
      await cluster.kubectl(['-n', NS, 'get', 'lease', 'weft-controller', '-o', 'json']),
    ) as {
      spec: { holderIdentity?: string };
    };
    return lease.spec.holderIdentity ?? '';
  }
  async function gossipKey(): Promise<{ key: string; resourceVersion: string }> {
    const s = JSON.parse(
      await cluster.kubectl(['-n', NS, 'get', 'secret', 'weft-gossip-key', '-o', 'json']),
    ) as {
      data: { key: string };
      metadata: { resourceVersion: string };
    };
    return { key: s.data.key, resourceVersion: s.metadata.resourceVersion };
  }
  async function createNode(name: string, podCIDR?: string): Promise<void> {
    const node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name },
      spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {},
    };
    await cluster.kubectl(['create', '-f', '-'], { input: JSON.stringify(node) });
  }
  async function stopReplica(r: Replica, signal: NodeJS.Signals): Promise<number | null> {
    r.proc.kill(signal);
    return r.exited;
  }

  before(async () => {
    tmp = mkdtempSync('/tmp/weft-wtctl-');
    cluster = await startCluster({ name: 'wtctl', nodes: 3, subnets: 1, allocateNodeCidrs: false });
    await cluster.kubectl(['apply', '-f', join(REPO, 'manifests/00-namespace.yaml')]);
    for (const f of ['02-controller-rbac.yaml', '03-config.yaml']) {
      await cluster.kubectl(['apply', '-f', join(REPO, 'manifests', f)]);
    }
    kubeconfig = join(tmp, 'weft-controller.kubeconfig');
    await cluster.createServiceAccountKubeconfig(NS, 'weft-controller', kubeconfig, { from: 'root' });
    // the file the Deployment mounts from the ConfigMap (subPath net-conf.json)
    netConfFile = join(tmp, 'net-conf.json');
    const conf = await cluster.kubectl([
      '-n',
      NS,
      'get',
      'configmap',
      'weft-config',
      '-o',
      'jsonpath={.data.net-conf\\.json}',
    ]);
    writeFileSync(netConfFile, conf);
  });

  after(async () => {
    for (const r of replicas)
      if (r.proc.exitCode === null && r.proc.signalCode === null) r.proc.kill('SIGKILL');
    await Promise.all(replicas.map((r) => r.exited));
    await cluster?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  let first: Replica;
  let before1: NodeItem[];
  let key1: { key: string; resourceVersion: string };

  it('gives every Node a distinct /24 from 10.244.0.0/16 (none had one: node IPAM is off)', async () => {
    for (const n of await nodes()) assert.equal(n.spec.podCIDR, undefined, n.metadata.name);
    const t0 = Date.now();
    first = startReplica('ctl-a', { netConfFromFile: true });
    const cidrs = await cluster.waitForPodCIDRs(30_000);
    process.stderr.write(`# 3 podCIDRs assigned ${Date.now() - t0} ms after the controller started\n`);
    const cluster16 = parseCidr('10.244.0.0/16');
    const assigned = [...cidrs.values()].map((list) => {
      assert.equal(list.length, 1);
      const c = parseCidr(list[0] as string);
      assert.equal(c.prefix, 24);
      assert.ok(cidrContainsCidr(cluster16, c));
      return c;
    });
    for (let i = 0; i < assigned.length; i++) {
      for (let j = i + 1; j < assigned.length; j++) {
        assert.ok(!cidrsOverlap(assigned[i] as never, assigned[j] as never), 'podCIDRs overlap');
      }
    }
    for (const n of await nodes()) assert.deepEqual(n.spec.podCIDRs, [n.spec.podCIDR]);
    assert.equal(await leaseHolder(), 'ctl-a');
    assert.ok(await isLeader(first));
    await waitFor(
      'metrics',
      async () => (await metric(first, 'weft_controller_cidrs_in_use', '{family="ipv4"}')) === 3,
    );
    assert.equal(await metric(first, 'weft_controller_cidrs_free', '{family="ipv4"}'), 253);
    assert.equal(await metric(first, 'weft_controller_cidr_allocations_total', '{result="success"}'), 3);
    assert.equal((await httpGet(first, '/readyz')).status, 200);
    assert.equal((await httpGet(first, '/healthz')).status, 200);
    const lines = logged(first, 'podCIDR allocated');
    assert.deepEqual(lines.map((l) => l.node).sort(), cluster.nodes.map((n) => n.name).sort());
    assert.ok(lines.every((l) => typeof l.cidr === 'string'));
  });

  it('creates the gossip key Secret: 32 random bytes', async () => {
    key1 = await waitFor('gossip key', () => gossipKey().catch(() => undefined));
    assert.equal(Buffer.from(key1.key, 'base64').length, 32);
  });

  it('changes nothing when restarted (rebuilds from Nodes), and SIGTERM releases the Lease', async () => {
    before1 = await nodes();
    assert.equal(await stopReplica(first, 'SIGTERM'), 0);
    assert.equal(await leaseHolder(), '', 'released on SIGTERM');
    const t0 = Date.now();
    const again = startReplica('ctl-a2', { netConfFromFile: false }); // net-conf from the ConfigMap via the API
    await waitFor('ctl-a2 leads', () => isLeader(again));
    process.stderr.write(`# restarted replica leading after ${Date.now() - t0} ms (lease was released)\n`);
    await waitFor('ctl-a2 ready', async () => (await httpGet(again, '/readyz')).status === 200);
    await waitFor(
      'rebuilt',
      async () => (await metric(again, 'weft_controller_cidrs_in_use', '{family="ipv4"}')) === 3,
    );
    await new Promise((r) => setTimeout(r, 2000));
    const after1 = await nodes();
    assert.deepEqual(
      after1.map((n) => [n.metadata.name, n.metadata.resourceVersion, n.spec.podCIDR]),
      before1.map((n) => [n.metadata.name, n.metadata.resourceVersion, n.spec.podCIDR]),
      'no Node was written',
    );
    assert.equal(logged(again, 'podCIDR allocated').length, 0);
    assert.equal(await metric(again, 'weft_controller_cidr_allocations_total', '{result="success"}'), 0);
    assert.deepEqual(await gossipKey(), key1, 'the existing key is kept');
  });

  it("allocates for new Nodes, never touches pre-set ones, reuses a deleted Node's podCIDR", async () => {
    const leader = replicas.at(-1) as Replica;
    const taken = new Set((await nodes()).map((n) => n.spec.podCIDR));
    await createNode('wtctl-preset', '10.244.3.0/24'); // the next free one, taken by someone else
    await createNode('wtctl-outside', '192.168.77.0/24');
    const t0 = Date.now();
    await createNode('wtctl-extra1');
    const extra1 = await waitFor('extra1 podCIDR', () => podCidrOf('wtctl-extra1'));
    process.stderr.write(`# new Node had its podCIDR ${Date.now() - t0} ms after kubectl create\n`);
    assert.ok(!taken.has(extra1));
    assert.equal(extra1, '10.244.4.0/24', 'lowest free, skipping the pre-set 10.244.3.0/24');
    assert.equal(await podCidrOf('wtctl-preset'), '10.244.3.0/24');
    assert.equal(await podCidrOf('wtctl-outside'), '192.168.77.0/24');
    await waitFor(
      'outside logged',
      () => logged(leader, 'podCIDR outside the cluster CIDRs; ignored').length > 0,
    );
    await createNode('wtctl-extra2');
    const extra2 = await waitFor('extra2 podCIDR', () => podCidrOf('wtctl-extra2'));
    assert.equal(extra2, '10.244.5.0/24');
    await cluster.kubectl(['delete', 'node', 'wtctl-extra1']);
    await waitFor('released', () =>
      logged(leader, 'podCIDR released').some((l) => l.node === 'wtctl-extra1'),
    );
    await createNode('wtctl-extra3');
    assert.equal(
      await waitFor('extra3 podCIDR', () => podCidrOf('wtctl-extra3')),
      extra1,
      'freed podCIDR reused',
    );
  });

  it('runs two replicas with exactly one leader; kill -9 of the leader fails over and allocation continues', async () => {
    const leader = replicas.at(-1) as Replica;
    const standby = startReplica('ctl-b', { netConfFromFile: true });
    await waitFor('standby ready', async () => (await httpGet(standby, '/readyz')).status === 200);
    await new Promise((r) => setTimeout(r, 3000));
    assert.deepEqual([await isLeader(leader), await isLeader(standby)], [true, false]);
    assert.equal(await leaseHolder(), leader.identity);
    assert.equal(await metric(standby, 'weft_controller_cidr_allocations_total', '{result="success"}'), 0);

    leader.proc.kill('SIGKILL');
    const killedAt = Date.now();
    await leader.exited;
    await waitFor('standby takes over', () => isLeader(standby), LEASE_DURATION_MS + 10_000, 200);
    const failoverMs = Date.now() - killedAt;
    process.stderr.write(
      `# failover after kill -9: ${failoverMs} ms (lease duration ${LEASE_DURATION_MS} ms)\n`,
    );
    assert.ok(failoverMs <= LEASE_DURATION_MS + 6000, `failover took ${failoverMs} ms`);
    assert.ok(failoverMs >= LEASE_DURATION_MS - 6500, `took over a live lease after ${failoverMs} ms`);
    assert.equal(await leaseHolder(), 'ctl-b');
    await createNode('wtctl-extra4');
    const extra4 = await waitFor('extra4 podCIDR', () => podCidrOf('wtctl-extra4'));
    assert.equal(extra4, '10.244.6.0/24');
    assert.deepEqual(await gossipKey(), key1);
  });

  it('hands the Lease over at once when the leader is stopped with SIGTERM', async () => {
    const leader = replicas.at(-1) as Replica;
    assert.ok(await isLeader(leader));
    const standby = startReplica('ctl-c', { netConfFromFile: true });
    await waitFor('standby ready', async () => (await httpGet(standby, '/readyz')).status === 200);
    assert.equal(await isLeader(standby), false);
    const t0 = Date.now();
    assert.equal(await stopReplica(leader, 'SIGTERM'), 0);
    await waitFor('standby takes over', () => isLeader(standby), 10_000, 100);
    const handoverMs = Date.now() - t0;
    process.stderr.write(`# handover after SIGTERM: ${handoverMs} ms\n`);
    assert.ok(handoverMs < 5000, `handover took ${handoverMs} ms`);
    assert.equal(await leaseHolder(), 'ctl-c');
  });

  it('allocates distinct podCIDRs to 20 Nodes created at once', async () => {
    const leader = replicas.at(-1) as Replica;
    const names = Array.from({ length: 20 }, (_, i) => `wtctl-bulk${i}`);
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: names.map((name) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name } })),
    };
    const t0 = Date.now();
    await cluster.kubectl(['create', '-f', '-'], { input: JSON.stringify(list) });
    const all = await waitFor('bulk podCIDRs', async () => {
      const items = await nodes();
      return items.every((n) => n.spec.podCIDR !== undefined) ? items : undefined;
    });
    process.stderr.write(`# 20 new Nodes had podCIDRs ${Date.now() - t0} ms after kubectl create\n`);
    const cidrs = all.flatMap((n) => (n.metadata.name === 'wtctl-outside' ? [] : [n.spec.podCIDR]));
    assert.equal(new Set(cidrs).size, cidrs.length, 'every podCIDR distinct');
    await waitFor(
      'in-use gauge',
      async () => (await metric(leader, 'weft_controller_cidrs_in_use', '{family="ipv4"}')) === cidrs.length,
    );
  });
});
