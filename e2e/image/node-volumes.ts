/**
 * What the kubelet prepares on a node before it starts the agent's container, done for a
 * node of the local cluster: hostPath directories/files (each node has its own dirs
 * under the cluster's run dir; pod network namespaces are the machine's /run/netns,
 * where `ip netns add` puts them), ConfigMap and Secret volumes read from the API, and
 * the ServiceAccount token volume (TokenRequest + cluster CA + namespace).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster, ClusterNode } from '../cluster/index.js';
import type { AgentPodSpec } from './daemonset-spec.js';
import { ManifestError } from './daemonset-spec.js';
import type { NodeBinding } from './podman-args.js';

/** The machine path that plays each DaemonSet hostPath on `node`. */
export function nodeHostPaths(node: ClusterNode): Record<string, string> {
  return {
    '/opt/cni/bin': node.dirs.cniBin,
    '/etc/cni/net.d': node.dirs.cniConf,
    '/run/weft': node.dirs.run,
    '/var/lib/weft': node.dirs.state,
    '/var/run/netns': '/run/netns',
    '/run/netns': '/run/netns',
    '/run/xtables.lock': join(node.dirs.root, 'xtables.lock'),
  };
}

/** Writes `data` (key → bytes) as one file per key into a fresh `dir`. */
function writeKeyFiles(dir: string, data: Record<string, Buffer>): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [key, value] of Object.entries(data)) writeFileSync(join(dir, key), value, { mode: 0o600 });
}

async function getObject(cluster: Cluster, kind: string, ns: string, name: string): Promise<unknown> {
  try {
    return JSON.parse(await cluster.kubectl(['get', kind, name, '-n', ns, '-o', 'json']));
  } catch (err: unknown) {
    if (/NotFound|not found/.test(String(err))) return undefined;
    throw err;
  }
}

/**
 * Prepares every volume of `spec` for `node` under `<node root>/pod-volumes` and returns
 * the binding for planPodmanRun (container name from `containerName`).
 */
export async function prepareNodeBinding(
  cluster: Cluster,
  node: ClusterNode,
  spec: AgentPodSpec,
  containerName: string,
): Promise<NodeBinding> {
  const root = join(node.dirs.root, 'pod-volumes');
  const hostPaths = nodeHostPaths(node);
  const configMapDirs: Record<string, string> = {};
  const secretDirs: Record<string, string> = {};
  for (const m of spec.mounts) {
    const v = m.volume;
    if (v.kind === 'hostPath') {
      const path = hostPaths[v.path];
      if (path === undefined) continue; // planPodmanRun names it
      if (v.type === 'FileOrCreate') writeFileSync(path, '', { flag: 'a' });
      else mkdirSync(path, { recursive: true });
    } else if (v.kind === 'configMap') {
      const cm = (await getObject(cluster, 'configmap', spec.namespace, v.name)) as
        | { data?: Record<string, string> }
        | undefined;
      if (!cm && !v.optional) throw new ManifestError(`volume ${m.name}`, `ConfigMap ${v.name} not found`);
      const dir = join(root, `configmap-${v.name}`);
      writeKeyFiles(
        dir,
        Object.fromEntries(Object.entries(cm?.data ?? {}).map(([k, s]) => [k, Buffer.from(s)])),
      );
      configMapDirs[v.name] = dir;
    } else {
      const secret = (await getObject(cluster, 'secret', spec.namespace, v.secretName)) as
        | { data?: Record<string, string> }
        | undefined;
      if (!secret && !v.optional)
        throw new ManifestError(`volume ${m.name}`, `Secret ${v.secretName} not found`);
      const dir = join(root, `secret-${v.secretName}`);
      const data = Object.entries(secret?.data ?? {}).map(([k, b64]) => [k, Buffer.from(b64, 'base64')]);
      writeKeyFiles(dir, Object.fromEntries(data));
      secretDirs[v.secretName] = dir;
    }
  }
  const token = (
    await cluster.kubectl([
      'create',
      'token',
      spec.serviceAccountName,
      '-n',
      spec.namespace,
      '--duration=24h',
    ])
  ).trim();
  const serviceAccountDir = join(root, 'serviceaccount');
  writeKeyFiles(serviceAccountDir, {
    token: Buffer.from(token),
    'ca.crt': readFileSync(cluster.caFile),
    namespace: Buffer.from(spec.namespace),
  });
  const api = new URL(cluster.apiServerURL);
  return {
    nodeName: node.name,
    nodeIP: node.ip,
    containerName,
    netnsPath: `/run/netns/${node.netns}`,
    hostPaths,
    configMapDirs,
    secretDirs,
    serviceAccountDir,
    apiServer: { host: api.hostname, port: api.port || '443' },
  };
}
