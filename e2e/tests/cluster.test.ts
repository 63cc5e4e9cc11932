import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cidrContainsCidr, cidrsOverlap, parseCidr } from '../../common/cidr.js';
import { apiRequest } from '../cluster/api-client.js';
import {
  type Cluster,
  ClusterError,
  destroyCluster,
  netnsPrefix,
  resolveBinDir,
  startCluster,
} from '../cluster/index.js';
import { listNetns } from '../cluster/netns.js';
import { isRecordAlive, type ProcessRecord } from '../cluster/processes.js';

const NAME = 'ctest';
const RUN_ROOT = '/tmp/weft-e2e-test';

async function clusterNamespaces(name: string): Promise<string[]> {
  return (await listNetns()).filter((ns) => ns.startsWith(netnsPrefix(name)));
}

function removeRunRootIfEmpty(): void {
  try {
    rmdirSync(RUN_ROOT);
  } catch {
    /* other runs' dirs inside, or already gone */
  }
}

/** `<node>=<InternalIPs>` of every Node, sorted, through kubectl and the admin kubeconfig. */
async function internalIps(cluster: Cluster): Promise<string[]> {
  const out = await cluster.kubectl([
    'get',
    'nodes',
    '-o',
    'jsonpath={range .items[*]}{.metadata.name}={.status.addresses[?(@.type=="InternalIP")].address}{"\\n"}{end}',
  ]);
  return out.trim().split('\n').sort();
}

/** Pings `to` from each `from` once; asserts every one answers. */
async function assertPings(cluster: Cluster, pairs: ReadonlyArray<readonly [Cluster['nodes'][0], string]>) {
  for (const [from, to] of pairs) {
    const r = await cluster.execInNode(from, ['ping', '-c', '1', '-W', '2', to]);
    assert.equal(r.code, 0, `${from.name} -> ${to}: ${r.stdout}${r.stderr}`);
  }
}

function recordedProcesses(runDir: string): ProcessRecord[] {
  return (JSON.parse(readFileSync(join(runDir, 'state.json'), 'utf8')) as { processes: ProcessRecord[] })
    .processes;
}

describe('local cluster: 3 nodes on 2 subnets with a real control plane', () => {
  let cluster: Cluster;
  let binDir: string;

  before(async () => {
    binDir = await resolveBinDir();
    await destroyCluster(NAME, RUN_ROOT); // a crashed earlier run must not fail this one
    const t0 = Date.now();
    cluster = await startCluster({ name: NAME, nodes: 3, subnets: 2, runRoot: RUN_ROOT, binDir });
    const cidrs = await cluster.waitForPodCIDRs(60_000);
    process.stderr.write(`# cluster up with podCIDRs for ${cidrs.size} nodes in ${Date.now() - t0} ms\n`);
  });

  after(async () => {
    await cluster?.stop();
    await destroyCluster(NAME, RUN_ROOT);
    removeRunRootIfEmpty();
  });

  it('gives every Node a distinct /24 from 10.244.0.0/16, assigned by kube-controller-manager', async () => {
    const out = JSON.parse(await cluster.kubectl(['get', 'nodes', '-o', 'json'])) as {
      items: Array<{ metadata: { name: string }; spec: { podCIDRs?: string[] } }>;
    };
    const clusterCidr = parseCidr('10.244.0.0/16');
    const assigned = cluster.nodes.map((n) => {
      const item = out.items.find((i) => i.metadata.name === n.name);
      const cidrs = item?.spec.podCIDRs ?? [];
      assert.equal(cidrs.length, 1, `${n.name} podCIDRs ${JSON.stringify(cidrs)}`);
      const c = parseCidr(cidrs[0] as string);
      assert.equal(c.prefix, 24);
      assert.ok(cidrContainsCidr(clusterCidr, c), `${cidrs[0]} outside 10.244.0.0/16`);
      return c;
    });
    for (let i = 0; i < assigned.length; i++) {
      for (let j = i + 1; j < assigned.length; j++) {
        assert.ok(!cidrsOverlap(assigned[i] as never, assigned[j] as never), 'podCIDRs overlap');
      }
    }
  });

  it('lists the nodes with their InternalIPs through kubectl and the admin kubeconfig', async () => {
    assert.deepEqual(await internalIps(cluster), cluster.nodes.map((n) => `${n.name}=${n.ip}`).sort());
    assert.notEqual(cluster.nodes[0]?.subnet, cluster.nodes[2]?.subnet, 'node3 must be on the other subnet');
  });

  it('lets node namespaces reach each other on one subnet and across the router', async () => {
    const [n1, n2, n3] = cluster.nodes as [Cluster['nodes'][0], Cluster['nodes'][0], Cluster['nodes'][0]];
    await assertPings(cluster, [
      [n1, n2.ip],
      [n1, n3.ip],
      [n3, n2.ip],
      [n3, cluster.external.ip],
    ]);
    const back = await cluster.execInNode(cluster.external.netns, ['ip', 'route', 'get', '10.244.0.1']);
    assert.notEqual(back.code, 0, 'the external host must have no route to pod CIDRs');
  });

  it('accepts a minted ServiceAccount token for what RBAC grants and answers 403 for the rest', async () => {
    await cluster.kubectl(['create', 'namespace', 'weft-e2e-rbac']);
    await cluster.kubectl(['create', 'serviceaccount', 'reader', '-n', 'weft-e2e-rbac']);
    await cluster.kubectl([
      'create',
      'clusterrole',
      'weft-e2e-node-reader',
      '--verb=get,list',
      '--resource=nodes',
    ]);
    await cluster.kubectl([
      'create',
      'clusterrolebinding',
      'weft-e2e-node-reader',
      '--clusterrole=weft-e2e-node-reader',
      '--serviceaccount=weft-e2e-rbac:reader',
    ]);
    const node3 = cluster.nodes[2] as Cluster['nodes'][0];
    const kubeconfig = join(node3.dirs.root, 'reader.kubeconfig');
    const token = await cluster.createServiceAccountKubeconfig('weft-e2e-rbac', 'reader', kubeconfig);

    // From inside node3 (other subnet), straight to the API server's underlay address.
    const kubectl = [join(binDir, 'kubectl'), `--kubeconfig=${kubeconfig}`];
    const ok = await cluster.execInNode(node3, [...kubectl, 'get', 'nodes', '-o', 'name']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.trim().split('\n').length, 3);
    const denied = await cluster.execInNode(node3, [...kubectl, 'get', 'secrets', '-n', 'kube-system']);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /Forbidden.*system:serviceaccount:weft-e2e-rbac:reader/);

    // The same token through the root-netns endpoint, checking the HTTP status codes.
    const ep = { url: cluster.adminServerURL, caPem: readFileSync(cluster.caFile, 'utf8'), token };
    assert.equal((await apiRequest(ep, 'GET', '/api/v1/nodes')).status, 200);
    assert.equal((await apiRequest(ep, 'GET', '/api/v1/namespaces/kube-system/secrets')).status, 403);
    const body = JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'intruder' } });
    assert.equal((await apiRequest(ep, 'POST', '/api/v1/nodes', { body })).status, 403);
    assert.equal((await apiRequest({ ...ep, token: `${token}x` }, 'GET', '/api/v1/nodes')).status, 401);
  });

  it('runs processes inside a node namespace and survives an API server restart', async () => {
    const node1 = cluster.nodes[0] as Cluster['nodes'][0];
    const proc = cluster.spawnInNode(node1, ['sleep', '300']);
    const ns = await cluster.execInNode(node1, ['ip', 'netns', 'identify', String(proc.pid)]);
    assert.equal(ns.stdout.trim(), node1.netns);

    await cluster.stopComponent('kube-apiserver');
    await assert.rejects(cluster.kubectl(['get', 'nodes', '--request-timeout=3s']));
    await cluster.startComponent('kube-apiserver');
    assert.match(await cluster.kubectl(['get', 'nodes', '-o', 'name']), /ctest-node1/);

    await proc.stop();
    assert.deepEqual(await proc.exited, { code: null, signal: 'SIGTERM' });
  });

  it('refuses to start a second cluster of the same name and leaves the first one running', async () => {
    await assert.rejects(
      startCluster({ name: NAME, runRoot: RUN_ROOT, binDir }),
      (e: unknown) => e instanceof ClusterError && e.code === 'ECLUSTEREXISTS',
    );
    assert.match(await cluster.kubectl(['get', 'nodes', '-o', 'name']), /ctest-node3/);
  });

  it('tears down every namespace, process and file, and can do it twice', async () => {
    const node2 = cluster.nodes[1] as Cluster['nodes'][0];
    cluster.spawnInNode(node2, ['sleep', '300']); // left running on purpose
    const procs = recordedProcesses(cluster.runDir);
    assert.ok(procs.length >= 6, `expected control plane + agent processes, got ${procs.length}`);
    assert.equal((await clusterNamespaces(NAME)).length, 6);
    await cluster.stop();
    assert.deepEqual(await clusterNamespaces(NAME), []);
    for (const p of procs) assert.ok(!isRecordAlive(p), `${p.id} (pid ${p.pid}) still alive`);
    assert.ok(!existsSync(cluster.runDir), 'run dir left behind');
    await cluster.stop();
    await destroyCluster(NAME, RUN_ROOT);
  });
});

describe('local cluster: failed start', () => {
  let blocker: Server | undefined;
  after(async () => {
    await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()));
    await destroyCluster('cport', RUN_ROOT);
    removeRunRootIfEmpty();
  });

  it('names a taken admin port and removes everything it had created', async () => {
    const server = createServer();
    blocker = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    await assert.rejects(
      startCluster({ name: 'cport', nodes: 1, runRoot: RUN_ROOT, adminPort: port }),
      (e: unknown) =>
        e instanceof ClusterError && e.code === 'EPORTINUSE' && e.message.includes(`127.0.0.1:${port}`),
    );
    assert.deepEqual(await clusterNamespaces('cport'), []);
    assert.ok(!existsSync(join(RUN_ROOT, 'cport', 'state.json')));
    assert.ok(
      existsSync(join(RUN_ROOT, 'cport', 'logs', 'forwarder-root.log')),
      'logs of a failed start are kept',
    );
  });
});

describe('local cluster, IPv6-only: control plane and underlay without IPv4', () => {
  const name = 'ctest6';
  let cluster: Cluster;
  let cidrs: Map<string, string[]>;

  before(async () => {
    await destroyCluster(name, RUN_ROOT);
    cluster = await startCluster({ name, nodes: 3, subnets: 2, runRoot: RUN_ROOT, ipFamily: 'ipv6' });
    cidrs = await cluster.waitForPodCIDRs(60_000);
  });

  after(async () => {
    await cluster?.stop();
    removeRunRootIfEmpty();
  });

  it('gives every Node one IPv6 InternalIP and one /64 podCIDR from fd00:10:244::/56', async () => {
    assert.deepEqual(await internalIps(cluster), cluster.nodes.map((n) => `${n.name}=${n.ip}`).sort());
    for (const n of cluster.nodes) {
      assert.match(n.ip, /^fd00:28:[12]::1\d$/);
      assert.match((cidrs.get(n.name) ?? []).join(','), /^fd00:10:244:(:|[0-9a-f]{1,2}::)\/64$/, n.name);
    }
    assert.equal(new Set([...cidrs.values()].flat()).size, 3, 'distinct podCIDRs');
  });

  it('serves the kubernetes Service on fd00:10:96::1 with the IPv6 endpoint, and the API over IPv6 from node3', async () => {
    const svc = await cluster.kubectl(['get', 'svc', 'kubernetes', '-o', 'jsonpath={.spec.clusterIPs}']);
    assert.equal(svc, '["fd00:10:96::1"]');
    const slice = await cluster.kubectl([
      'get',
      'endpointslice',
      'kubernetes',
      '-o',
      'jsonpath={.addressType}',
    ]);
    assert.equal(slice, 'IPv6');
    const node3 = cluster.nodes[2] as Cluster['nodes'][0];
    const kubectl = join(cluster.binDir, 'kubectl');
    const r = await cluster.execInNode(node3, [
      kubectl,
      `--kubeconfig=${cluster.adminKubeconfigInNode}`,
      'get',
      '--raw',
      '/readyz',
    ]);
    assert.equal(`${r.code} ${r.stdout.trim()}`, '0 ok', r.stderr);
    assert.equal(cluster.apiServerURL, 'https://[fd00:28:1::2]:6443');
  });

  it('routes IPv6 between the subnets and to the external host, which has no route to pod CIDRs; no IPv4 address anywhere', async () => {
    const [n1, , n3] = cluster.nodes as [Cluster['nodes'][0], Cluster['nodes'][0], Cluster['nodes'][0]];
    await assertPings(cluster, [
      [n1, n3.ip],
      [n3, cluster.external.ip],
    ]);
    const back = await cluster.execInNode(cluster.external.netns, ['ip', 'route', 'get', 'fd00:10:244::1']);
    assert.notEqual(back.code, 0, 'the external host must have no route to pod CIDRs');
    for (const ns of await clusterNamespaces(name)) {
      const r = await cluster.execInNode(ns, ['ip', '-4', '-o', 'addr', 'show']);
      assert.deepEqual(
        r.stdout
          .trim()
          .split('\n')
          .filter((l) => !/^\d+: lo /.test(l)),
        [],
        ns,
      );
    }
  });
});
