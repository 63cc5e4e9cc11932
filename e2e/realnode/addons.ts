import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { load as loadYaml } from 'js-yaml';
import { type PodInfo, parsePods } from '../checks/connectivity.js';
import type { Cluster } from '../cluster/cluster.js';
import { repoRoot } from '../cluster/prereq.js';
import type { IpFamilyMode } from '../cluster/spec.js';
import { helmTemplate } from '../helm/chart.js';
import { CLUSTER_DNS_IP, clusterDnsIp } from './kubelet.js';

export const WEFT_IMAGE_NAME = 'ghcr.io/weft-net/weft';

/** The tag scripts/image.sh gives the image it builds: package.json's version. */
export function weftImageTag(root = repoRoot()): string {
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

export type WeftBackend = 'auto' | 'hostgw' | 'vxlan' | 'wireguard';

/** What an operator edits in the shipped net-conf.json: the backend type, the cluster CIDRs. */
export interface NetConfChanges {
  backend?: WeftBackend;
  /** One per family (dual-stack: IPv4 first). */
  clusterCIDRs?: readonly string[];
}

/**
 * The shipped net-conf.json (the weft-config ConfigMap of manifests/03-config.yaml) with only
 * what is given changed (pure).
 */
export function netConfWith(configYaml: string, changes: NetConfChanges): string {
  const cm = loadYaml(configYaml) as { data?: Record<string, string> };
  const text = cm.data?.['net-conf.json'];
  if (text === undefined) throw new Error('03-config.yaml has no data.net-conf.json');
  const conf = JSON.parse(text) as { backend?: Record<string, unknown>; clusterCIDRs?: string[] };
  const { backend, clusterCIDRs } = changes;
  // WireGuard has no VNI, and its port is its own (51820 by default), not VXLAN's.
  if (backend !== undefined) {
    conf.backend = backend === 'wireguard' ? { type: backend } : { ...conf.backend, type: backend };
  }
  if (clusterCIDRs !== undefined) conf.clusterCIDRs = [...clusterCIDRs];
  return `${JSON.stringify(conf, null, 2)}\n`;
}

/**
 * The e2e overlay (pure): the shipped manifests/ unchanged, only the image pointed at the
 * locally built tag — what an operator's own kustomization would do — and, when given, the
 * ConfigMap's net-conf.json replaced by a patch.
 */
export function renderWeftOverlay(
  overlayDir: string,
  manifestsDir: string,
  image: { name: string; tag: string },
  netConf?: string,
): string {
  const patch = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'weft-config', namespace: 'weft-system' },
    data: { 'net-conf.json': netConf },
  };
  return `${JSON.stringify(
    {
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: [relative(overlayDir, manifestsDir)],
      images: [{ name: WEFT_IMAGE_NAME, newName: image.name, newTag: image.tag }],
      ...(netConf === undefined ? {} : { patches: [{ patch: JSON.stringify(patch) }] }),
    },
    null,
    2,
  )}\n`;
}

/** Installs Weft as a user does: `kubectl apply -k` of the overlay (net-conf as shipped unless changes are given). */
export async function installWeft(
  cluster: Cluster,
  image = { name: WEFT_IMAGE_NAME, tag: weftImageTag() },
  c: NetConfChanges = {},
): Promise<void> {
  const dir = join(cluster.runDir, 'weft-overlay');
  const manifests = join(repoRoot(), 'manifests');
  const netConf =
    c.backend === undefined && c.clusterCIDRs === undefined
      ? undefined
      : netConfWith(readFileSync(join(manifests, '03-config.yaml'), 'utf8'), c);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'kustomization.yaml'), renderWeftOverlay(dir, manifests, image, netConf));
  await cluster.kubectl(['apply', '-k', dir]);
}

/** The `--set` values that point the chart at an image (pure): the only values the chart install changes. */
export function chartImageValues(image: { name: string; tag: string }): string[] {
  return [`image.repository=${image.name}`, `image.tag=${image.tag}`];
}

/**
 * Installs Weft from the chart: `helm template` of charts/weft with only the image values set,
 * applied with `kubectl apply -f` (what `helm install` would create, without a release record).
 */
export async function installWeftChart(
  cluster: Cluster,
  image = { name: WEFT_IMAGE_NAME, tag: weftImageTag() },
  values: readonly string[] = [],
): Promise<void> {
  const rendered = await helmTemplate({ set: [...chartImageValues(image), ...values] });
  const file = join(cluster.runDir, 'weft-chart.yaml');
  writeFileSync(file, rendered);
  await cluster.kubectl(['apply', '-f', file]);
}

/** The agent pods (node, name), from the API. */
export async function listAgents(cluster: Cluster): Promise<PodInfo[]> {
  const json = await cluster.kubectl(
    ['-n', 'weft-system', 'get', 'pods', '-l', 'app.kubernetes.io/name=weft-agent', '-o', 'json'],
    { timeoutMs: 30_000 },
  );
  return parsePods(json);
}

/** `weft status --json` inside an agent pod, parsed (the caller says which fields it reads). */
export async function weftStatusIn<T>(cluster: Cluster, agentPod: string): Promise<T> {
  const out = await cluster.kubectl(
    ['-n', 'weft-system', 'exec', agentPod, '--', 'weft', 'status', '--json'],
    {
      timeoutMs: 30_000,
    },
  );
  return JSON.parse(out) as T;
}

/** CoreDNS with its Service on the ClusterIP kubelets hand out (IPv6 in an IPv6-only cluster). */
/** The chart (image values plus `values`) and CoreDNS, then waits for both as a user does. */
export async function installChartAndDns(cluster: Cluster, values: readonly string[] = []): Promise<void> {
  await installWeftChart(cluster, { name: WEFT_IMAGE_NAME, tag: weftImageTag() }, values);
  await installCoreDns(cluster);
  await waitForWeft(cluster, 300);
  await waitForCoreDns(cluster, 300);
}

export async function installCoreDns(cluster: Cluster): Promise<void> {
  const manifest = readFileSync(join(repoRoot(), 'e2e', 'workloads', 'coredns.yaml'), 'utf8');
  await cluster.kubectl(['apply', '-f', '-'], { input: coreDnsManifest(manifest, cluster.ipFamily) });
}

/** The CoreDNS manifest with kube-dns's ClusterIP for `ipFamily` (pure). */
export function coreDnsManifest(manifest: string, ipFamily: IpFamilyMode): string {
  const line = `clusterIP: ${CLUSTER_DNS_IP}`;
  if (!manifest.includes(line)) throw new Error(`coredns.yaml has no "${line}"`);
  return manifest.replace(line, `clusterIP: ${clusterDnsIp(ipFamily)}`);
}

export async function applyCheckWorkloads(cluster: Cluster): Promise<void> {
  await cluster.kubectl(['apply', '-f', join(repoRoot(), 'e2e', 'workloads', 'checks.yaml')]);
}

/** Waits for what a user waits for after installing: agents, controller, Ready nodes, CoreDNS. */
export async function waitForWeft(cluster: Cluster, timeoutSeconds = 240): Promise<void> {
  const t = `--timeout=${timeoutSeconds}s`;
  const o = { timeoutMs: (timeoutSeconds + 10) * 1000 };
  await cluster.kubectl(['-n', 'weft-system', 'rollout', 'status', 'ds/weft-agent', t], o);
  await cluster.kubectl(['wait', '--for=condition=Ready', 'nodes', '--all', t], o);
  await cluster.kubectl(['-n', 'weft-system', 'rollout', 'status', 'deploy/weft-controller', t], o);
}

export async function waitForCoreDns(cluster: Cluster, timeoutSeconds = 240): Promise<void> {
  await cluster.kubectl(
    ['-n', 'kube-system', 'rollout', 'status', 'deploy/coredns', `--timeout=${timeoutSeconds}s`],
    {
      timeoutMs: (timeoutSeconds + 10) * 1000,
    },
  );
}

export async function waitForCheckWorkloads(cluster: Cluster, timeoutSeconds = 240): Promise<void> {
  for (const ds of ['ds/echo', 'ds/client']) {
    await cluster.kubectl(['-n', 'weft-e2e', 'rollout', 'status', ds, `--timeout=${timeoutSeconds}s`], {
      timeoutMs: (timeoutSeconds + 10) * 1000,
    });
  }
}
