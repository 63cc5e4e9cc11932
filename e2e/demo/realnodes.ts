/**
 * The demo on real nodes: kubelet + containerd + kube-proxy on 3 nodes over 2 subnets,
 * Weft installed with `kubectl apply -k` (manifests/ with the local image tag), CoreDNS,
 * a Deployment behind a Service, and the connectivity checks the e2e and kind run.
 */
import { join } from 'node:path';
import type { Logger } from '../../common/log.js';
import { parseNodeIps, runConnectivityChecks } from '../checks/connectivity.js';
import { type Cluster, startCluster } from '../cluster/index.js';
import { repoRoot } from '../cluster/prereq.js';
import { resolveNodeBinDir } from '../nodebin/bins.js';
import {
  applyCheckWorkloads,
  installCoreDns,
  installWeft,
  waitForCheckWorkloads,
  waitForCoreDns,
  waitForWeft,
} from '../realnode/addons.js';

export const DEMO_EXTERNAL_PORT = 8090;

async function applyDemoWorkloads(cluster: Cluster): Promise<void> {
  await cluster.kubectl(['apply', '-f', join(repoRoot(), 'e2e', 'workloads', 'demo.yaml')]);
  for (const d of ['deploy/hello', 'deploy/client']) {
    await cluster.kubectl(['-n', 'demo', 'rollout', 'status', d, '--timeout=240s'], { timeoutMs: 250_000 });
  }
}

/** Brings the demo up and returns the lines to print, and whether every check passed. */
export async function upRealNodes(name: string, log: Logger): Promise<{ lines: string[]; ok: boolean }> {
  const t0 = Date.now();
  const cluster = await startCluster({ name, nodes: 3, subnets: 2, kubelet: true }, log);
  try {
    await cluster.waitForPodCIDRs(180_000);
    await installWeft(cluster);
    await installCoreDns(cluster);
    await waitForWeft(cluster, 300);
    await waitForCoreDns(cluster, 300);
    await applyDemoWorkloads(cluster);
    await applyCheckWorkloads(cluster);
    await waitForCheckWorkloads(cluster, 300);
    // The external host's echo server (agnhost netexec) outlives this process: it is
    // recorded with the cluster, and `down` stops it.
    cluster.spawnInNode({ name: 'external', netns: cluster.external.netns }, [
      join(cluster.binDir, 'agnhost'),
      'netexec',
      `--http-port=${DEMO_EXTERNAL_PORT}`,
    ]);
    const nodeIps = parseNodeIps(await cluster.kubectl(['get', 'nodes', '-o', 'json']));
    const results = await runConnectivityChecks((a) => cluster.kubectl(a, { timeoutMs: 30_000 }), {
      nodeIps,
      externalUrl: `http://${cluster.external.ip}:${DEMO_EXTERNAL_PORT}/clientip`,
    });
    const failed = results.filter((r) => !r.ok);
    const nodeBinDir = await resolveNodeBinDir(); // crictl, ctr
    const lines = [
      `Weft demo "${cluster.name}" is up (${((Date.now() - t0) / 1000).toFixed(0)}s): 3 real nodes (kubelet, containerd, kube-proxy) on 2 subnets, Weft backend auto, CoreDNS`,
      ...cluster.nodes.map((n) => `  ${n.name}  ${n.ip} (${n.subnet})`),
      '',
      `connectivity checks: ${results.length - failed.length}/${results.length} passed`,
      ...failed.map((f) => `  FAIL ${f.name}: ${f.detail}`),
      '',
      'try:',
      `  export KUBECONFIG=${cluster.adminKubeconfig} PATH=${cluster.binDir}:${nodeBinDir}:$PATH`,
      '  kubectl get nodes -o wide; kubectl get pods -A -o wide',
      '  kubectl -n weft-system exec ds/weft-agent -- weft status',
      '  kubectl -n demo exec deploy/client -- curl -s hello/hostname            # a Service, by name',
      '  kubectl -n demo exec deploy/client -- nslookup hello.demo.svc.cluster.local',
      `  kubectl -n demo exec deploy/client -- curl -s ${cluster.external.ip}:${DEMO_EXTERNAL_PORT}/clientip   # egress: the external host sees the node IP`,
      '  kubectl -n demo scale deploy/hello --replicas=6; kubectl -n demo logs deploy/hello',
      `  node logs (kubelet, containerd, kube-proxy): ${join(cluster.runDir, 'logs')}`,
      `  crictl on a node: ${cluster.nodes[0] ? `crictl --runtime-endpoint unix://${join(cluster.nodes[0].dirs.run, 'containerd/containerd.sock')} ps` : ''}`,
      'remove everything: sudo bash scripts/demo.sh down',
    ];
    return { lines, ok: failed.length === 0 };
  } catch (err) {
    await cluster.stop({ keepLogs: true }).catch(() => undefined);
    throw err;
  }
}
