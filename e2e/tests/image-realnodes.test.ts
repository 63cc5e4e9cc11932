/**
 * Weft on real nodes: every node of the local cluster runs containerd, kubelet and
 * kube-proxy (e2e/realnode); Weft is installed as a user installs it (`kubectl apply -k`
 * of manifests/ with only the image tag changed) and CoreDNS on top. Pods are made by the
 * kubelets, so the CNI calls, Services and DNS are the real ones. The connectivity checks
 * are the same list e2e/kind/run.sh runs (e2e/checks).
 *
 * Needs the image built by scripts/image.sh and the node images (e2e/images/build.sh);
 * scripts/test.sh includes this file only then.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../common/log.js';
import { parseNodeIps, runConnectivityChecks } from '../checks/connectivity.js';
import { type EchoServer, startEchoServer } from '../cluster/echo-server.js';
import { type Cluster, destroyCluster, startCluster } from '../cluster/index.js';
import {
  applyCheckWorkloads,
  installCoreDns,
  installWeft,
  waitForCheckWorkloads,
  waitForCoreDns,
  waitForWeft,
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

describe('Weft on real nodes (kubelet + containerd + kube-proxy, CoreDNS)', { timeout: 1_500_000 }, () => {
  let cluster: Cluster;
  let external: EchoServer | undefined;
  const log = createLogger('e2e-realnodes', process.env.WEFT_E2E_LOG ?? 'warn');

  before(async () => {
    await destroyCluster(NAME);
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

  it('kubectl apply -k of manifests/ brings up the agents and the controller, then every node is Ready, then CoreDNS', async () => {
    await installWeft(cluster);
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
});
