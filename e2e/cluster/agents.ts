/**
 * Real Weft agents on the nodes of a local cluster, started the way the DaemonSet
 * would start them (its env, a ServiceAccount token bound by manifests/ RBAC).
 * Shared by the e2e tests, the benchmarks and the demo.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Cluster, ClusterNode, NodeProcess } from './index.js';
import { clusterCidrs, hasIPv6, NODE_CIDR_MASK6 } from './plan.js';

export const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
export const NODE_BIN = join(REPO, 'node_modules/.bin/node');
export const AGENT_MAIN = join(REPO, 'dist/agent/src/main.js');
export const AGENT_HTTP_PORT = 9742;

/** Applies the namespace and agent RBAC from manifests/ and writes an SA kubeconfig for node namespaces. */
export async function prepareAgentCredentials(cluster: Cluster): Promise<string> {
  for (const file of ['00-namespace.yaml', '01-agent-rbac.yaml']) {
    await cluster.kubectl(['apply', '-f', join(REPO, 'manifests', file)]);
  }
  const path = join(cluster.runDir, 'agent', 'kubeconfig');
  await cluster.createServiceAccountKubeconfig('weft-system', 'weft-agent', path);
  return path;
}

/**
 * Weft's net-conf for this cluster (pure): its cluster CIDR of each family it serves (IPv4 first;
 * IPv6-only: the one IPv6 CIDR), the IPv6 podCIDR size the controller manager hands out, then
 * `extra` (backend, resyncSeconds …). An IPv4 cluster's is the same as `clusterCIDR` alone.
 */
export function clusterNetConf(cluster: Pick<Cluster, 'ipFamily'>, extra: object = {}): object {
  return {
    clusterCIDRs: clusterCidrs(cluster.ipFamily),
    ...(hasIPv6(cluster.ipFamily) ? { nodeCIDRMaskSizeIPv6: NODE_CIDR_MASK6 } : {}),
    ...extra,
  };
}

/** Writes a net-conf JSON file under the cluster's run dir and returns its path. */
export function writeNetConf(cluster: Cluster, name: string, conf: object | string): string {
  const dir = join(cluster.runDir, 'agent');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `net-conf-${name}.json`);
  writeFileSync(path, typeof conf === 'string' ? conf : JSON.stringify(conf));
  return path;
}

export interface AgentRun {
  readonly node: ClusterNode;
  readonly proc: NodeProcess;
  readonly logFile: string;
}

let runCounter = 0;

/** Starts the real agent inside `node`'s namespace with the env the DaemonSet sets. */
export function startAgent(
  cluster: Cluster,
  node: ClusterNode,
  opts: { netConf: string; kubeconfig: string; args?: string[]; env?: Record<string, string> },
): AgentRun {
  const logFile = join(cluster.runDir, 'logs', `${node.name}-agent-${++runCounter}.log`);
  const env: Record<string, string> = {
    NODE_NAME: node.name,
    KUBECONFIG: opts.kubeconfig,
    WEFT_NET_CONF: opts.netConf,
    WEFT_CNI_BIN_DIR: node.dirs.cniBin,
    WEFT_CNI_CONF_DIR: node.dirs.cniConf,
    WEFT_RUN_DIR: node.dirs.run,
    WEFT_STATE_DIR: node.dirs.state,
    // As the chart sets it: every IPv6 address too on an IPv6-only node (127.0.0.1 still answers).
    WEFT_HTTP_ADDR: cluster.ipFamily === 'ipv6' ? `[::]:${AGENT_HTTP_PORT}` : `0.0.0.0:${AGENT_HTTP_PORT}`,
    WEFT_LOG_LEVEL: 'debug',
    NODE_TEST_CONTEXT: '',
    ...opts.env,
  };
  const proc = cluster.spawnInNode(node, [NODE_BIN, AGENT_MAIN, ...(opts.args ?? [])], { env, logFile });
  return { node, proc, logFile };
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err: unknown) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`,
  );
}

/** GET http://127.0.0.1:9742<path> from inside the node; resolves to {status, body}. */
export async function agentGet(
  cluster: Cluster,
  node: ClusterNode,
  path: string,
): Promise<{ status: number; body: string }> {
  const r = await cluster.execInNode(node, [
    'curl',
    '-s',
    '-m',
    '2',
    '-w',
    '\n%{http_code}',
    `http://127.0.0.1:${AGENT_HTTP_PORT}${path}`,
  ]);
  const idx = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(idx + 1)) || 0, body: r.stdout.slice(0, idx) };
}

/** Waits until the agent on `node` answers /readyz with 200. */
export async function waitAgentReady(cluster: Cluster, node: ClusterNode, timeoutMs?: number): Promise<void> {
  await waitFor(
    `${node.name} ready`,
    async () => (await agentGet(cluster, node, '/readyz')).status === 200,
    timeoutMs,
  );
}
