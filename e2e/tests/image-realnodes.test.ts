/**
 * Weft on real nodes: every node of the local cluster runs containerd, kubelet and
 * kube-proxy (e2e/realnode); Weft is installed from the Helm chart (charts/weft rendered by
 * `helm template` with only the image values set, then `kubectl apply`; the other real-node
 * tests apply manifests/, the chart's default rendering) and CoreDNS on top. Pods are made by the
 * kubelets, so the CNI calls, Services and DNS are the real ones. The connectivity checks
 * are the same list e2e/kind/run.sh runs (e2e/checks).
 *
 * Needs the image built by scripts/image.sh and the node images (e2e/images/build.sh);
 * scripts/test.sh includes this file only then. helm: $WEFT_HELM_DIR or e2e/helm/build.sh.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sleep } from '../../common/backoff.js';
import { createLogger } from '../../common/log.js';
import { parseNodeIps, runConnectivityChecks } from '../checks/connectivity.js';
import { AGENT_HTTP_PORT } from '../cluster/agents.js';
import { type EchoServer, startEchoServer } from '../cluster/echo-server.js';
import { runChecked } from '../cluster/exec.js';
import { type Cluster, destroyCluster, startCluster } from '../cluster/index.js';
import { resolveNodeBinDir } from '../nodebin/bins.js';
import {
  applyCheckWorkloads,
  installCoreDns,
  installWeftChart,
  WEFT_IMAGE_NAME,
  waitForCheckWorkloads,
  waitForCoreDns,
  waitForWeft,
  weftImageTag,
} from '../realnode/addons.js';

const NAME = 'rn';
const EXTERNAL_PORT = 8090;

interface NodeCondition {
  type: string;
  status: string;
  message?: string;
}

async function readyConditions(cluster: Cluster): Promise<Map<string, NodeCondition | undefined>> {
  const list = JSON.parse(await cluster.kubectl(['get', 'nodes', '-o', 'json'])) as {
    items: Array<{ metadata: { name: string }; status?: { conditions?: NodeCondition[] } }>;
  };
  return new Map(
    list.items.map((n) => [n.metadata.name, n.status?.conditions?.find((c) => c.type === 'Ready')]),
  );
}

interface PodRow {
  name: string;
  node: string;
  ip: string;
  ready: boolean;
  uid: string;
}

async function podRows(cluster: Cluster, ns: string, selector: string): Promise<PodRow[]> {
  const list = JSON.parse(await cluster.kubectl(['-n', ns, 'get', 'pods', '-l', selector, '-o', 'json'])) as {
    items: Array<{
      metadata: { name: string; uid: string };
      spec: { nodeName?: string };
      status: { podIP?: string; conditions?: Array<{ type: string; status: string }> };
    }>;
  };
  return list.items.map((p) => ({
    name: p.metadata.name,
    uid: p.metadata.uid,
    node: p.spec.nodeName ?? '',
    ip: p.status.podIP ?? '',
    ready: p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
  }));
}

/** Addresses Weft's IPAM holds on a node (its state file as the node sees /var/lib/weft). */
function ipamAddresses(cluster: Cluster, node: string): string[] {
  const n = cluster.nodes.find((x) => x.name === node);
  assert.ok(n, node);
  const file = join(n.dirs.state, 'weft', 'ipam', 'weft.json');
  if (!existsSync(file)) return [];
  const state = JSON.parse(readFileSync(file, 'utf8')) as { allocations: Array<{ ips: string[] }> };
  return state.allocations.flatMap((a) => a.ips);
}

/** A Deployment of agnhost pods (pause) pinned to one node. */
function pinnedDeployment(name: string, node: string, replicas: number): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'weft-e2e' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          nodeName: node,
          terminationGracePeriodSeconds: 0,
          containers: [{ name: 'c', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['pause'] }],
        },
      },
    },
  });
}

async function waitUntil(what: string, fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await sleep(250);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

describe('Weft on real nodes (kubelet + containerd + kube-proxy, CoreDNS)', { timeout: 1_500_000 }, () => {
  let cluster: Cluster;
  let external: EchoServer | undefined;
  let nodeBinDir: string;
  const log = createLogger('e2e-realnodes', process.env.WEFT_E2E_LOG ?? 'warn');

  before(async () => {
    await destroyCluster(NAME);
    nodeBinDir = await resolveNodeBinDir();
    cluster = await startCluster({ name: NAME, nodes: 3, subnets: 2, kubelet: true }, log);
    await cluster.waitForPodCIDRs(180_000);
  });

  after(async () => {
    await external?.stop();
    await cluster?.stop({ keepLogs: process.env.WEFT_E2E_KEEP_LOGS === '1' });
  });

  it('kubelets register their nodes, NotReady until a pod network is installed', async () => {
    const ready = await readyConditions(cluster);
    assert.deepEqual([...ready.keys()].sort(), cluster.nodes.map((n) => n.name).sort());
    for (const [node, c] of ready) {
      assert.equal(c?.status, 'False', `${node} Ready before any CNI config: ${JSON.stringify(c)}`);
    }
  });

  it('the chart rendered by helm template brings up the agents and the controller, then every node is Ready, then CoreDNS', async () => {
    await installWeftChart(cluster);
    await installCoreDns(cluster);
    await waitForWeft(cluster, 300);
    for (const [node, c] of await readyConditions(cluster)) assert.equal(c?.status, 'True', node);
    await waitForCoreDns(cluster, 300);
  });

  it('weft status through kubectl exec shows the mesh of every node', async () => {
    const out = await cluster.kubectl(['-n', 'weft-system', 'exec', 'ds/weft-agent', '--', 'weft', 'status']);
    for (const n of cluster.nodes) assert.ok(out.includes(n.name), `weft status lacks ${n.name}:\n${out}`);
  });

  it('the connectivity checks pass: pod↔pod (no NAT), ClusterIP, DNS, headless, hostPort, NodePort, egress, logs', async () => {
    external = await startEchoServer(cluster.external.netns, EXTERNAL_PORT);
    await applyCheckWorkloads(cluster);
    await waitForCheckWorkloads(cluster, 300);
    const nodeIps = parseNodeIps(await cluster.kubectl(['get', 'nodes', '-o', 'json']));
    const results = await runConnectivityChecks((args) => cluster.kubectl(args, { timeoutMs: 30_000 }), {
      nodeIps,
      externalUrl: `http://${cluster.external.ip}:${EXTERNAL_PORT}/`,
    });
    const failed = results.filter((r) => !r.ok);
    assert.deepEqual(
      failed,
      [],
      results.map((r) => `${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.detail}`).join('\n'),
    );
    // 3 clients × 3 servers, ClusterIP, 2 DNS, 3 hostPort, 3 NodePort, 3 egress, logs
    assert.equal(results.length, 9 + 1 + 2 + 3 + 3 + 3 + 1);
  });

  it("a pod deleted through kubelet gives its address back to IPAM (the runtime's DEL)", async () => {
    const node = cluster.nodes[0]?.name as string;
    await cluster.kubectl(['apply', '-f', '-'], { input: pinnedDeployment('one', node, 1) });
    await cluster.kubectl(['-n', 'weft-e2e', 'rollout', 'status', 'deploy/one', '--timeout=120s'], {
      timeoutMs: 130_000,
    });
    const [pod] = await podRows(cluster, 'weft-e2e', 'app=one');
    assert.ok(pod?.ip, 'pod has an IP');
    assert.ok(ipamAddresses(cluster, node).includes(pod.ip), `IPAM on ${node} holds ${pod.ip}`);
    await cluster.kubectl(['-n', 'weft-e2e', 'delete', 'deploy/one', '--wait=true']);
    await waitUntil(
      `${pod.ip} freed on ${node}`,
      async () => !ipamAddresses(cluster, node).includes(pod.ip),
      60_000,
    );
  });

  it('100 pods scheduled on one node at once all get distinct addresses and become Ready', async () => {
    const node = cluster.nodes[1]?.name as string;
    const t0 = Date.now();
    await cluster.kubectl(['apply', '-f', '-'], { input: pinnedDeployment('burst', node, 100) });
    await cluster.kubectl(['-n', 'weft-e2e', 'rollout', 'status', 'deploy/burst', '--timeout=600s'], {
      timeoutMs: 610_000,
    });
    const pods = await podRows(cluster, 'weft-e2e', 'app=burst');
    const ips = new Set(pods.map((p) => p.ip));
    assert.equal(pods.length, 100);
    assert.ok(pods.every((p) => p.ready && p.node === node));
    assert.equal(ips.size, 100, 'distinct addresses');
    process.stderr.write(`# 100 pods Ready on ${node} in ${Date.now() - t0} ms\n`);
    await cluster.kubectl(['-n', 'weft-e2e', 'delete', 'deploy/burst', '--wait=true'], {
      timeoutMs: 300_000,
    });
    await waitUntil(
      'the 100 addresses freed',
      async () => !ipamAddresses(cluster, node).some((ip) => ips.has(ip)),
      180_000,
    );
  });

  it('kubelet restarted: running pods keep their sandboxes and addresses, and connectivity', async () => {
    const before = await podRows(cluster, 'weft-e2e', 'app in (echo,client)');
    for (const n of cluster.nodes) await cluster.stopNodeComponent(n.name, 'kubelet');
    for (const n of cluster.nodes) cluster.startNodeComponent(n.name, 'kubelet');
    await waitForWeft(cluster, 180);
    await waitForCheckWorkloads(cluster, 180);
    const afterRows = await podRows(cluster, 'weft-e2e', 'app in (echo,client)');
    assert.deepEqual(
      afterRows.map((p) => `${p.uid} ${p.ip}`).sort(),
      before.map((p) => `${p.uid} ${p.ip}`).sort(),
      'same pods, same addresses',
    );
    const nodeIps = parseNodeIps(await cluster.kubectl(['get', 'nodes', '-o', 'json']));
    const results = await runConnectivityChecks((args) => cluster.kubectl(args, { timeoutMs: 30_000 }), {
      nodeIps,
    });
    assert.deepEqual(
      results.filter((r) => !r.ok),
      [],
    );
  });

  it("containerd's CNI STATUS calls reach Weft and are answered ok (conflist negotiated at 1.1.0)", async () => {
    for (const n of cluster.nodes) {
      const r = await cluster.execInNode(n, [
        'curl',
        '-sS',
        '-m',
        '5',
        `http://127.0.0.1:${AGENT_HTTP_PORT}/metrics`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.split('\n').filter((l) => l.startsWith('weft_cni_requests_total{'));
      const count = (cmd: string, ok: boolean) =>
        lines
          .filter((l) => l.includes(`command="${cmd}"`) && l.includes('result="ok"') === ok)
          .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
      assert.ok(count('STATUS', true) > 0, `${n.name}: no STATUS answered ok:\n${lines.join('\n')}`);
      assert.equal(
        count('STATUS', false) + count('GC', false),
        0,
        `${n.name}: failed STATUS/GC:\n${lines.join('\n')}`,
      );
    }
  });

  it('rollout restart of the agents, then an image change: a ping stream between pods on other subnets loses nothing', async () => {
    const clients = await podRows(cluster, 'weft-e2e', 'app=client');
    const echos = await podRows(cluster, 'weft-e2e', 'app=echo');
    const first = cluster.nodes[0]?.name;
    const last = cluster.nodes[cluster.nodes.length - 1]?.name;
    const from = clients.find((p) => p.node === first);
    const to = echos.find((p) => p.node === last);
    assert.ok(from && to, 'a client on the first node and an echo pod on the last');
    const count = 750; // 150 s at 5 per second: longer than both rollouts
    const ping = cluster.kubectl(
      [
        '-n',
        'weft-e2e',
        'exec',
        from.name,
        '--',
        'ping',
        '-q',
        '-c',
        String(count),
        '-i',
        '0.2',
        '-W',
        '1',
        to.ip,
      ],
      { timeoutMs: 240_000 },
    );
    const ds = ['-n', 'weft-system'];
    const rollout = async () =>
      cluster.kubectl([...ds, 'rollout', 'status', 'ds/weft-agent', '--timeout=180s'], {
        timeoutMs: 190_000,
      });
    await sleep(2000);
    await cluster.kubectl([...ds, 'rollout', 'restart', 'ds/weft-agent']);
    await rollout();
    // The same image under a second tag in every node's containerd: a real image change.
    const tag = `${WEFT_IMAGE_NAME}:${weftImageTag()}-e2e`;
    for (const n of cluster.nodes) {
      await runChecked([
        join(nodeBinDir, 'ctr'),
        '--address',
        join(n.dirs.run, 'containerd', 'containerd.sock'),
        '-n',
        'k8s.io',
        'images',
        'tag',
        '--force',
        `${WEFT_IMAGE_NAME}:${weftImageTag()}`,
        tag,
      ]);
    }
    await cluster.kubectl([...ds, 'set', 'image', 'ds/weft-agent', `agent=${tag}`]);
    await rollout();
    const out = await ping;
    const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
    assert.ok(m, out);
    process.stderr.write(`# ping across two agent rollouts: ${m[0]}\n`);
    assert.equal(m[2], m[1], `lost packets: ${out.trim()}`);
    const images = await cluster.kubectl([
      ...ds,
      'get',
      'pods',
      '-l',
      'app.kubernetes.io/name=weft-agent',
      '-o',
      'jsonpath={.items[*].spec.containers[0].image}',
    ]);
    assert.deepEqual(
      images.split(' '),
      cluster.nodes.map(() => tag),
      'every agent runs the new image',
    );
  });

  it('a node drained, stopped and deleted: its routes leave the other nodes within 1 s', async () => {
    const gone = cluster.nodes[cluster.nodes.length - 1];
    assert.ok(gone);
    const cidr = (await cluster.kubectl(['get', 'node', gone.name, '-o', 'jsonpath={.spec.podCIDR}'])).trim();
    const others = cluster.nodes.filter((n) => n !== gone);
    const hasRoute = async (n: (typeof others)[number]) =>
      (await cluster.execInNode(n, ['ip', '-o', 'route', 'show', cidr])).stdout.trim() !== '';
    for (const n of others) assert.ok(await hasRoute(n), `${n.name} has a route to ${cidr} before`);
    await cluster.kubectl(
      ['drain', gone.name, '--ignore-daemonsets', '--delete-emptydir-data', '--force', '--timeout=120s'],
      {
        timeoutMs: 130_000,
      },
    );
    await cluster.stopNodeComponent(gone.name, 'kubelet');
    const t0 = Date.now(); // before kubectl starts: its own start-up counts against the second
    await cluster.kubectl(['delete', 'node', gone.name]);
    await waitUntil(
      `routes to ${cidr} gone`,
      async () => (await Promise.all(others.map(hasRoute))).every((has) => !has),
      10_000,
    );
    const ms = Date.now() - t0;
    process.stderr.write(
      `# routes to the deleted node's ${cidr} gone from ${others.length} nodes ${ms} ms after kubectl delete started\n`,
    );
    assert.ok(ms <= 1000, `took ${ms} ms`);
  });
});
