import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../../common/backoff.js';
import type { Logger } from '../../common/log.js';
import { runCommand } from '../cluster/exec.js';
import { renderKubeconfig } from '../cluster/kubeconfig.js';
import { clusterCidrs, ipFamilyOfNode, type NodePlan, nodeIps } from '../cluster/plan.js';
import { tail } from '../cluster/prereq.js';
import {
  isRecordAlive,
  type ProcessRecord,
  spawnDetached,
  stopRecordedProcess,
} from '../cluster/processes.js';
import { ClusterError } from '../cluster/spec.js';
import type { ClusterStateStore } from '../cluster/state.js';
import { type ContainerdPaths, renderContainerdConfig } from '../images/containerd-config.js';
import { installNodeCniPlugins } from '../nodebin/bins.js';
import { ensureCgroupRoot } from './cgroups.js';
import { renderKubeProxyConfig } from './kube-proxy.js';
import { clusterDnsIp, kubeletArgs, kubeletCgroupRoot, renderKubeletConfig } from './kubelet.js';
import { mountNsOf } from './mount-ns.js';
import {
  computeNodeView,
  holderArgv,
  inNodeArgv,
  NODE_CONTAINERD_SOCKET,
  type NodeView,
} from './node-view.js';

/** What a real node needs from the cluster around it. */
export interface RealNodeContext {
  clusterName: string;
  apiServerURL: string;
  caPem: string;
  caFile: string;
  /** kubelet's token (user system:node:<name>) and kube-proxy's (system:kube-proxy). */
  kubeletToken: string;
  kubeProxyToken: string;
  k8sBinDir: string; // kubelet, kube-proxy
  nodeBinDir: string; // containerd, containerd-shim-runc-v2, ctr, crictl, CNI plugins
  runcBinary: string;
  /** Loads the node images into a containerd given its socket (as seen from the machine). */
  importImages: (socket: string) => Promise<void>;
  logDir: string;
  store: ClusterStateStore;
  log: Logger;
}

export const NODE_COMPONENTS = ['holder', 'containerd', 'kubelet', 'kube-proxy'] as const;
export type NodeComponent = (typeof NODE_COMPONENTS)[number];

export function nodeComponentId(node: string, c: NodeComponent): string {
  return `${node}/${c}`;
}

/** A started real node: its view, its processes' records, and the holder's mount namespace. */
export interface RealNode {
  node: NodePlan;
  view: NodeView;
  holderPid: number;
  mntNs: string;
}

function nodeFiles(view: NodeView) {
  const k = join(view.root, 'k8s');
  return {
    dir: k,
    kubeletConfig: join(k, 'kubelet.json'),
    kubeletKubeconfig: join(k, 'kubelet.kubeconfig'),
    kubeletCertDir: join(k, 'kubelet-pki'),
    proxyConfig: join(k, 'kube-proxy.json'),
    proxyKubeconfig: join(k, 'kube-proxy.kubeconfig'),
    containerdConfig: join(k, 'containerd.toml'),
    resolvConf: join(k, 'resolv.conf'),
  };
}

/**
 * containerd's paths as the node sees them (node-view.ts): the standard ones, which are the
 * node's own; only the config file is named by its machine path.
 */
export function nodeContainerdPaths(configFile: string): ContainerdPaths {
  return {
    dir: '/run/containerd',
    config: configFile,
    root: '/var/lib/containerd',
    state: '/run/containerd',
    temp: '/var/lib/containerd/tmp',
    address: NODE_CONTAINERD_SOCKET,
    log: '/var/log/containerd.log',
    runcRoot: '/run/containerd/runc',
    fifoDir: '/run/containerd/fifo',
    opt: '/var/lib/containerd/opt',
    cniConfDir: '/etc/cni/net.d',
    cniBinDir: '/opt/cni/bin',
    shimSocketDir: '/run/containerd/s',
  };
}

/** Writes a node's configuration files and its CNI plugins (pure inputs, files only). */
export function writeNodeFiles(
  ctx: RealNodeContext,
  node: NodePlan,
  view: NodeView,
  externalIp: string,
): void {
  const f = nodeFiles(view);
  mkdirSync(f.kubeletCertDir, { recursive: true, mode: 0o700 });
  const kc = (user: string, token: string) =>
    renderKubeconfig({
      clusterName: ctx.clusterName,
      server: ctx.apiServerURL,
      caPem: ctx.caPem,
      user,
      token,
    });
  writeFileSync(f.kubeletKubeconfig, kc(`system:node:${node.name}`, ctx.kubeletToken), { mode: 0o600 });
  writeFileSync(f.proxyKubeconfig, kc('system:kube-proxy', ctx.kubeProxyToken), { mode: 0o600 });
  // Pods with dnsPolicy Default (CoreDNS itself) get this: a resolver that answers
  // nothing quickly, as no DNS server is reachable from this test bed.
  writeFileSync(f.resolvConf, `nameserver ${externalIp}\noptions timeout:1 attempts:1\n`);
  writeFileSync(
    f.kubeletConfig,
    renderKubeletConfig({
      name: node.name,
      ip: node.ip,
      cgroupRoot: kubeletCgroupRoot(ctx.clusterName, node.index),
      clientCaFile: ctx.caFile,
      resolvConf: f.resolvConf,
      maxPods: 150,
      clusterDns: clusterDnsIp(ipFamilyOfNode(node)),
    }),
  );
  writeFileSync(
    f.proxyConfig,
    renderKubeProxyConfig({
      kubeconfig: f.proxyKubeconfig,
      nodeName: node.name,
      nodeIp: node.ip,
      clusterCidr: clusterCidrs(ipFamilyOfNode(node)).join(','),
    }),
  );
  writeFileSync(
    f.containerdConfig,
    renderContainerdConfig(nodeContainerdPaths(f.containerdConfig), {
      runcBinary: ctx.runcBinary,
      cniBinDirs: ['/opt/cni/bin'],
      cniConfDir: '/etc/cni/net.d',
    }),
  );
  installNodeCniPlugins(ctx.nodeBinDir, node.dirs.cniBin);
}

/**
 * Starts one real node: the holder (network namespace + private mount namespace with the
 * node's view), containerd with the node images imported, kubelet and kube-proxy. Every
 * process is recorded in the state file before the next step, so teardown finds it.
 */
export async function startRealNode(
  ctx: RealNodeContext,
  node: NodePlan,
  externalIp: string,
  signal?: AbortSignal,
): Promise<RealNode> {
  const view = computeNodeView(node.dirs.root);
  writeNodeFiles(ctx, node, view, externalIp);
  const f = nodeFiles(view);
  const holder = spawnNodeProcess(ctx, node, 'holder', holderArgv(node.netns, view, node.name));
  await waitFor(ctx, node, 'holder', () => existsSync(view.readyFile), 15_000, signal, 'its mounts');
  const mntNs = mountNsOf(holder.pid);
  if (mntNs === undefined || mntNs === mountNsOf(process.pid)) {
    throw nodeFailure(ctx, node, 'holder', 'the holder has no mount namespace of its own');
  }
  const path = `${ctx.nodeBinDir}:${ctx.k8sBinDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
  const inNode = (argv: string[]) => inNodeArgv(holder.pid, argv, path);
  spawnNodeProcess(
    ctx,
    node,
    'containerd',
    inNode([join(ctx.nodeBinDir, 'containerd'), '--config', f.containerdConfig]),
  );
  await waitFor(ctx, node, 'containerd', () => containerdAnswers(ctx, view), 30_000, signal, 'its socket');
  await ctx.importImages(view.containerdSocket);
  ensureCgroupRoot(kubeletCgroupRoot(ctx.clusterName, node.index));
  spawnNodeProcess(
    ctx,
    node,
    'kubelet',
    inNode([
      join(ctx.k8sBinDir, 'kubelet'),
      ...kubeletArgs({
        config: f.kubeletConfig,
        kubeconfig: f.kubeletKubeconfig,
        nodeName: node.name,
        // Dual-stack: both InternalIPs, IPv4 first (kubelet's --node-ip takes one per family);
        // IPv6-only: its one IPv6 address.
        nodeIp: nodeIps(node).join(','),
        certDir: f.kubeletCertDir,
      }),
    ]),
  );
  spawnNodeProcess(
    ctx,
    node,
    'kube-proxy',
    inNode([join(ctx.k8sBinDir, 'kube-proxy'), `--config=${f.proxyConfig}`]),
  );
  ctx.log.info({ node: node.name, op: 'node-start' }, 'real node started');
  return { node, view, holderPid: holder.pid, mntNs };
}

function spawnNodeProcess(
  ctx: Pick<RealNodeContext, 'logDir' | 'store'>,
  node: Pick<NodePlan, 'name'>,
  c: NodeComponent,
  argv: string[],
): ProcessRecord {
  const id = nodeComponentId(node.name, c);
  const logFile = join(ctx.logDir, `${node.name}-${c}.log`);
  const { record } = spawnDetached({ id, argv, logFile });
  ctx.store.update((s) => {
    s.processes = [...s.processes.filter((p) => p.id !== id), record];
  });
  return record;
}

/**
 * Stops one component of a running node (kubelet, kube-proxy, containerd): SIGTERM to its
 * process group, SIGKILL after 10 s. Its record stays (marked by a dead pid) so that
 * `restartNodeComponent` can start it again with the same command line.
 */
export async function stopNodeComponent(
  store: ClusterStateStore,
  node: string,
  c: NodeComponent,
): Promise<void> {
  const rec = nodeRecord(store, node, c);
  if (!rec) throw new ClusterError('ENOCOMPONENT', `node ${node} has no ${c}`);
  await stopRecordedProcess(rec, 'SIGTERM', 10_000);
}

/** Starts a stopped node component again from its recorded command line (same log file, appended). */
export function restartNodeComponent(
  ctx: Pick<RealNodeContext, 'logDir' | 'store'>,
  node: string,
  c: NodeComponent,
): ProcessRecord {
  const rec = nodeRecord(ctx.store, node, c);
  if (!rec) throw new ClusterError('ENOCOMPONENT', `node ${node} has no ${c}`);
  if (isRecordAlive(rec)) throw new ClusterError('ECOMPONENT', `${c} on ${node} is still running`);
  return spawnNodeProcess(ctx, { name: node }, c, rec.argv);
}

/** The recorded process of a node component, or undefined. */
export function nodeRecord(
  store: ClusterStateStore,
  node: string,
  c: NodeComponent,
): ProcessRecord | undefined {
  return store.read()?.processes.find((p) => p.id === nodeComponentId(node, c));
}

async function containerdAnswers(ctx: RealNodeContext, view: NodeView): Promise<boolean> {
  if (!existsSync(view.containerdSocket)) return false;
  const r = await runCommand([join(ctx.nodeBinDir, 'ctr'), '--address', view.containerdSocket, 'version'], {
    timeoutMs: 5000,
  });
  return r.code === 0;
}

async function waitFor(
  ctx: RealNodeContext,
  node: NodePlan,
  c: NodeComponent,
  ready: () => boolean | Promise<boolean>,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    if (await ready()) return;
    const rec = nodeRecord(ctx.store, node.name, c);
    if (!rec || !isRecordAlive(rec)) throw nodeFailure(ctx, node, c, `${c} exited during start-up`);
    await sleep(100, signal);
  }
  throw nodeFailure(ctx, node, c, `${c} not ready (${what}) after ${timeoutMs} ms`);
}

/** One line naming the node, the component and the log to read, then that log's tail. */
export function nodeFailure(
  ctx: Pick<RealNodeContext, 'logDir'>,
  node: NodePlan,
  c: NodeComponent,
  message: string,
) {
  const logFile = join(ctx.logDir, `${node.name}-${c}.log`);
  const text = existsSync(logFile) ? tail(readFileSync(logFile, 'utf8'), 20) : '(no log)';
  return new ClusterError('ENODESTART', `node ${node.name}: ${message}; read ${logFile}\n${text}`);
}
