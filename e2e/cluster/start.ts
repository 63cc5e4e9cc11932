import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../common/log.js';
import { silentLogger } from '../../common/log.js';
import { installNodeCniPlugins, resolveNodeBinDir } from '../nodebin/bins.js';
import { startRealNodes } from '../realnode/start-nodes.js';
import { realNodeTokenUsers, SCHEDULER_USER } from '../realnode/users.js';
import type { ApiEndpoint } from './api-client.js';
import { type Cluster, LocalCluster } from './cluster.js';
import { type ComponentContext, ControlPlane } from './control-plane.js';
import { runChecked } from './exec.js';
import { type ControlPlaneFiles, computeControlPlaneFiles, loopbackApiServerURL } from './flags.js';
import { renderKubeconfig } from './kubeconfig.js';
import { addNetns, listNetns } from './netns.js';
import { desiredNodeObjects } from './nodes.js';
import { ADMIN_USER, applyPki, type ClusterTokens, readAdminEndpoint, servingCertIps } from './pki.js';
import { type ClusterPlan, computeClusterPlan, planNamespaces } from './plan.js';
import { checkHostPrerequisites, resolveBinDir } from './prereq.js';
import { ClusterError, type ClusterSpec, parseClusterSpec, type ResolvedClusterSpec } from './spec.js';
import { ClusterStateStore } from './state.js';
import { destroyCluster } from './teardown.js';
import { planTopologyCommands } from './topology.js';

const API_READY_TIMEOUT_MS = 120_000;

/**
 * Builds a cluster: namespaces and underlay, PKI, etcd + kube-apiserver +
 * kube-controller-manager in the control-plane namespace, the admin endpoint on
 * 127.0.0.1 in the root namespace, and one v1/Node per node namespace. It does not
 * wait for podCIDRs (call waitForPodCIDRs). On any failure everything is torn down
 * again (logs kept) and the error carries the failing component's log tail.
 */
export async function startCluster(
  input: Partial<ClusterSpec> = {},
  log: Logger = silentLogger(),
  opts: { signal?: AbortSignal } = {},
): Promise<Cluster> {
  const { signal } = opts;
  const spec = parseClusterSpec(input);
  checkHostPrerequisites();
  const binDir = await resolveBinDir(spec.binDir);
  const plan = computeClusterPlan(spec);
  const files = computeControlPlaneFiles(plan.runDir);
  await assertAbsent(plan, files);
  const started = Date.now();
  rmSync(plan.runDir, { recursive: true, force: true });
  mkdirSync(files.logDir, { recursive: true, mode: 0o700 });
  const store = new ClusterStateStore(files.stateFile);
  store.init({ version: 1, spec, plan, binDir, phase: 'starting', namespaces: [], processes: [] });
  try {
    await applyNetwork(plan, store, !spec.kubelet, signal);
    log.info({ op: 'network', durationMs: Date.now() - started }, 'underlay ready');
    const { cluster, tokens } = await startControlPlane({ spec, plan, files, binDir, store, log }, signal);
    signal?.throwIfAborted();
    if (spec.kubelet) {
      const registeredNodes = async () =>
        (await cluster.kubectl(['get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}'])).split(/\s+/);
      await startRealNodes({ plan, files, binDir, store, log, tokens, registeredNodes }, signal);
    } else {
      await cluster.kubectl(['create', '-f', '-'], { input: JSON.stringify(desiredNodeObjects(plan)) });
    }
    store.update((s) => {
      s.phase = 'running';
    });
    log.info({ op: 'start', cluster: plan.name, durationMs: Date.now() - started }, 'cluster up');
    return cluster;
  } catch (err) {
    log.warn({ op: 'start', cluster: plan.name, err }, 'start failed; tearing down (logs kept)');
    store.update((s) => {
      s.phase = 'failed';
    });
    await destroyCluster(spec.name, spec.runRoot, { keepLogs: true, log }).catch((e: unknown) =>
      log.error({ err: e }, 'teardown after failed start failed'),
    );
    throw err;
  }
}

async function assertAbsent(plan: ClusterPlan, files: ControlPlaneFiles): Promise<void> {
  const leftovers = (await listNetns()).filter((ns) => ns.startsWith(plan.nsPrefix));
  if (leftovers.length > 0 || existsSync(files.stateFile)) {
    throw new ClusterError(
      'ECLUSTEREXISTS',
      `cluster ${plan.name} already exists (${leftovers.join(', ') || files.stateFile}); run \`down --name ${plan.name}\` or destroyCluster('${plan.name}') first`,
    );
  }
}

async function applyNetwork(
  plan: ClusterPlan,
  store: ClusterStateStore,
  bareNodes: boolean,
  signal?: AbortSignal,
): Promise<void> {
  for (const ns of planNamespaces(plan)) {
    signal?.throwIfAborted();
    store.update((s) => s.namespaces.push(ns)); // recorded before it exists: teardown deletes what may exist
    await addNetns(ns);
  }
  for (const cmd of planTopologyCommands(plan)) await runChecked(cmd);
  for (const n of plan.nodes) {
    for (const d of Object.values(n.dirs)) mkdirSync(d, { recursive: true });
  }
  // Bare nodes get the node's own CNI plugins here; real nodes get them with their view.
  if (bareNodes) {
    const nodeBinDir = await resolveNodeBinDir();
    for (const n of plan.nodes) installNodeCniPlugins(nodeBinDir, n.dirs.cniBin);
  }
}

interface StartContext {
  spec: ResolvedClusterSpec;
  plan: ClusterPlan;
  files: ControlPlaneFiles;
  binDir: string;
  store: ClusterStateStore;
  log: Logger;
}

async function startControlPlane(
  c: StartContext,
  signal?: AbortSignal,
): Promise<{ cluster: LocalCluster; tokens: ClusterTokens }> {
  const { spec, plan, files, binDir, store, log } = c;
  const users = spec.kubelet ? realNodeTokenUsers(plan) : [];
  const tokens = await applyPki(
    files,
    servingCertIps(plan.ipFamily, plan.controlPlane.ip),
    users,
    spec.kubelet,
  );
  const caPem = readFileSync(files.caCert, 'utf8');
  const kubeconfig = (server: string, user: string, token: string) =>
    renderKubeconfig({ clusterName: plan.name, server, caPem, user, token });
  writeFileSync(
    files.controllerManagerKubeconfig,
    kubeconfig(loopbackApiServerURL(plan.ipFamily), 'kube-controller-manager', tokens.controllerManager),
    { mode: 0o600 },
  );
  writeFileSync(files.adminKubeconfigInNode, kubeconfig(plan.apiServerURL, ADMIN_USER, tokens.admin), {
    mode: 0o600,
  });
  const ctx = componentContext(spec, plan, files, binDir, spec.adminPort);
  const cp = new ControlPlane(ctx, store, log.child({ component: 'control-plane' }));
  await cp.start('forwarder-root');
  const port = await cp.waitForAdminPort(10_000, signal);
  ctx.adminPort = port; // a restarted forwarder-root keeps the port the kubeconfig names
  store.update((s) => {
    s.adminPort = port;
  });
  const endpoint: ApiEndpoint = { url: `https://127.0.0.1:${port}`, caPem, token: tokens.admin };
  writeFileSync(files.adminKubeconfig, kubeconfig(endpoint.url, ADMIN_USER, tokens.admin), { mode: 0o600 });
  await cp.start('forwarder-cp');
  await cp.start('etcd');
  await cp.start('kube-apiserver');
  const watch = ['forwarder-root', 'forwarder-cp', 'etcd', 'kube-apiserver'] as const;
  await cp.waitForApiServer(endpoint, API_READY_TIMEOUT_MS, [...watch], signal);
  log.info({ op: 'apiserver-ready' }, 'API server ready');
  await cp.start('kube-controller-manager');
  if (spec.kubelet) {
    const token = tokens.users[SCHEDULER_USER] ?? '';
    writeFileSync(
      files.schedulerKubeconfig,
      kubeconfig(loopbackApiServerURL(plan.ipFamily), SCHEDULER_USER, token),
      {
        mode: 0o600,
      },
    );
    await cp.start('kube-scheduler');
  }
  const cluster = new LocalCluster({ spec, plan, files, binDir, store, controlPlane: cp, endpoint, log });
  return { cluster, tokens };
}

/** A handle on a cluster started by another process (e.g. CLI `up`), from its state file. */
export function attachCluster(name: string, runRoot?: string, log: Logger = silentLogger()): Cluster {
  const spec = parseClusterSpec(runRoot === undefined ? { name } : { name, runRoot });
  const files = computeControlPlaneFiles(computeClusterPlan(spec).runDir);
  const store = new ClusterStateStore(files.stateFile);
  const state = store.read();
  if (!state || state.adminPort === undefined) {
    throw new ClusterError('ENOCLUSTER', `no running cluster ${name} (no state file at ${files.stateFile})`);
  }
  const endpoint = readAdminEndpoint(files, state.adminPort);
  const ctx = componentContext(state.spec, state.plan, files, state.binDir, state.adminPort);
  const cp = new ControlPlane(ctx, store, log);
  return new LocalCluster({
    spec: state.spec,
    plan: state.plan,
    files,
    binDir: state.binDir,
    store,
    controlPlane: cp,
    endpoint,
    log,
  });
}

function componentContext(
  spec: ResolvedClusterSpec,
  plan: ClusterPlan,
  files: ControlPlaneFiles,
  binDir: string,
  adminPort: number,
): ComponentContext {
  return {
    plan,
    files,
    binDir,
    allocateNodeCidrs: spec.allocateNodeCidrs,
    kubelet: spec.kubelet,
    adminPort,
    nodeExecPath: process.execPath,
    forwarderScript: join(dirname(fileURLToPath(import.meta.url)), 'forwarder.js'),
  };
}
