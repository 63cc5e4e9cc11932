import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { sleep } from '../../common/backoff.js';
import type { Logger } from '../../common/log.js';
import { type NodeComponent, restartNodeComponent, stopNodeComponent } from '../realnode/node-runtime.js';
import { type ApiEndpoint, apiRequest } from './api-client.js';
import type { ComponentName, ControlPlane } from './control-plane.js';
import { type CommandResult, runChecked, runCommand } from './exec.js';
import type { ControlPlaneFiles } from './flags.js';
import { renderKubeconfig } from './kubeconfig.js';
import { type ClusterNode, parsePodCidrs } from './nodes.js';
import type { ClusterPlan } from './plan.js';
import { type NodeProcess, pollExit, spawnDetached, stopRecordedProcess } from './processes.js';
import type { IpFamilyMode, ResolvedClusterSpec } from './spec.js';
import type { ClusterStateStore } from './state.js';
import { destroyCluster } from './teardown.js';

export interface ClusterDeps {
  spec: ResolvedClusterSpec;
  plan: ClusterPlan;
  files: ControlPlaneFiles;
  binDir: string;
  store: ClusterStateStore;
  controlPlane: ControlPlane;
  endpoint: ApiEndpoint; // root netns, admin
  log: Logger;
}

/**
 * A running local cluster. Every path and address is the harness's own; nothing in the
 * root network namespace is changed (the admin endpoint is a forwarder on 127.0.0.1).
 */
export interface Cluster {
  readonly name: string;
  readonly runDir: string;
  readonly binDir: string;
  /** 'ipv4', 'dual' or 'ipv6' (spec.ipFamily): the families of the underlay and the control plane. */
  readonly ipFamily: IpFamilyMode;
  /** The API server as seen from node namespaces: https://172.28.1.2:6443 (IPv6-only: https://[fd00:28:1::2]:6443). */
  readonly apiServerURL: string;
  /** Admin kubeconfig for the root netns (server https://127.0.0.1:<port>, TLS verified). */
  readonly adminKubeconfig: string;
  /** Admin kubeconfig for use inside any cluster namespace (server = apiServerURL). */
  readonly adminKubeconfigInNode: string;
  /** https://127.0.0.1:<port>: the admin endpoint in the root netns. */
  readonly adminServerURL: string;
  /** PEM file of the cluster CA that signed the API server certificate. */
  readonly caFile: string;
  readonly nodes: ClusterNode[];
  /** Nodes run kubelet + containerd + kube-proxy (spec.kubelet). */
  readonly realNodes: boolean;
  readonly external: { netns: string; ip: string };
  readonly routerNetns: string;
  readonly controlPlaneNetns: string;
  kubectl(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<string>;
  waitForPodCIDRs(timeoutMs?: number, signal?: AbortSignal): Promise<Map<string, string[]>>;
  createServiceAccountKubeconfig(
    namespace: string,
    serviceAccount: string,
    path: string,
    opts?: { from?: 'node' | 'root'; durationSeconds?: number },
  ): Promise<string>;
  spawnInNode(
    node: Pick<ClusterNode, 'name' | 'netns'>,
    argv: string[],
    opts?: { env?: Record<string, string>; logFile?: string },
  ): NodeProcess;
  execInNode(
    node: ClusterNode | string,
    argv: string[],
    opts?: { input?: string; env?: Record<string, string>; timeoutMs?: number },
  ): Promise<CommandResult>;
  stopComponent(name: ComponentName): Promise<void>;
  /** Real nodes: stop / start again one node's kubelet, kube-proxy or containerd. */
  stopNodeComponent(node: string, component: NodeComponent): Promise<void>;
  startNodeComponent(node: string, component: NodeComponent): void;
  startComponent(name: ComponentName, timeoutMs?: number): Promise<void>;
  stop(opts?: { keepLogs?: boolean }): Promise<void>;
}

export class LocalCluster implements Cluster {
  readonly name: string;
  readonly runDir: string;
  readonly binDir: string;
  readonly ipFamily: IpFamilyMode;
  readonly apiServerURL: string;
  readonly adminKubeconfig: string;
  readonly adminKubeconfigInNode: string;
  readonly adminServerURL: string;
  readonly caFile: string;
  readonly nodes: ClusterNode[];
  readonly realNodes: boolean;
  readonly external: { netns: string; ip: string };
  readonly routerNetns: string;
  readonly controlPlaneNetns: string;
  private spawnCount = 0;
  private stopped = false;

  constructor(private readonly deps: ClusterDeps) {
    this.name = deps.plan.name;
    this.runDir = deps.plan.runDir;
    this.binDir = deps.binDir;
    this.ipFamily = deps.plan.ipFamily ?? 'ipv4';
    this.apiServerURL = deps.plan.apiServerURL;
    this.adminKubeconfig = deps.files.adminKubeconfig;
    this.adminKubeconfigInNode = deps.files.adminKubeconfigInNode;
    this.adminServerURL = deps.endpoint.url;
    this.caFile = deps.files.caCert;
    this.nodes = deps.plan.nodes;
    this.realNodes = deps.spec.kubelet;
    this.external = { netns: deps.plan.externalNetns, ip: deps.plan.external.ip };
    this.routerNetns = deps.plan.routerNetns;
    this.controlPlaneNetns = deps.plan.controlPlaneNetns;
  }

  /** kubectl as cluster admin from the root netns; rejects with kubectl's stderr on failure. */
  kubectl(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
    const argv = [join(this.binDir, 'kubectl'), `--kubeconfig=${this.adminKubeconfig}`, ...args];
    return runChecked(argv, opts);
  }

  /** Waits until every node has a podCIDR (assigned by node IPAM, or by whoever does it when that is off). */
  async waitForPodCIDRs(timeoutMs = 60_000, signal?: AbortSignal): Promise<Map<string, string[]>> {
    const deadline = Date.now() + timeoutMs;
    const names = this.nodes.map((n) => n.name);
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      if (this.deps.spec.allocateNodeCidrs) this.deps.controlPlane.assertAlive(['kube-controller-manager']);
      try {
        const r = await apiRequest(this.deps.endpoint, 'GET', '/api/v1/nodes');
        if (r.status === 200) {
          const cidrs = parsePodCidrs(JSON.parse(r.body), names);
          if (cidrs) return cidrs;
          last = 'some nodes have no podCIDR yet';
        } else last = `GET nodes: ${r.status}`;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      await sleep(200, signal);
    }
    throw this.deps.controlPlane.failure(
      'kube-controller-manager',
      `podCIDRs not assigned within ${timeoutMs} ms (${last})`,
    );
  }

  /**
   * Mints a token for `namespace/serviceAccount` through the TokenRequest API and writes a
   * kubeconfig with it to `path` (mode 0600). The server is the API server's underlay
   * address (for processes inside node namespaces), or the root-netns admin endpoint with
   * `from: 'root'`. Resolves to the token.
   */
  async createServiceAccountKubeconfig(
    namespace: string,
    serviceAccount: string,
    path: string,
    opts: { from?: 'node' | 'root'; durationSeconds?: number } = {},
  ): Promise<string> {
    const duration = `${opts.durationSeconds ?? 24 * 3600}s`;
    const token = (
      await this.kubectl(['create', 'token', serviceAccount, '-n', namespace, `--duration=${duration}`])
    ).trim();
    const server = opts.from === 'root' ? this.adminServerURL : this.apiServerURL;
    mkdirSync(dirname(path), { recursive: true });
    const caPem = this.deps.endpoint.caPem;
    const user = `system:serviceaccount:${namespace}:${serviceAccount}`;
    writeFileSync(path, renderKubeconfig({ clusterName: this.name, server, caPem, user, token }), {
      mode: 0o600,
    });
    return token;
  }

  /**
   * Starts argv inside the node's namespace, detached in its own process group, output
   * appended to `logFile` (default `<runDir>/logs/<node>-<argv0>.log`). Recorded in the
   * state file so that teardown stops it even after a crash.
   */
  spawnInNode(
    node: Pick<ClusterNode, 'name' | 'netns'>,
    argv: string[],
    opts: { env?: Record<string, string>; logFile?: string } = {},
  ): NodeProcess {
    const base = basename(argv[0] ?? 'process');
    const id = `${node.name}/${base}#${++this.spawnCount}`;
    const logFile = opts.logFile ?? join(this.deps.files.logDir, `${node.name}-${base}.log`);
    const spawnOpts = { id, argv, netns: node.netns, logFile };
    const { record, exited } = spawnDetached(opts.env ? { ...spawnOpts, env: opts.env } : spawnOpts);
    this.deps.store.update((s) => s.processes.push(record));
    const store = this.deps.store;
    return {
      id,
      pid: record.pid,
      logFile,
      exited,
      async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 5000) {
        await stopRecordedProcess(record, signal, timeoutMs);
        await Promise.race([exited, pollExit(record)]);
        store.update((s) => {
          s.processes = s.processes.filter((p) => p.id !== id);
        });
      },
    };
  }

  /** Runs argv to completion inside a node (or any namespace by name); never throws on a non-zero exit. */
  execInNode(
    node: ClusterNode | string,
    argv: string[],
    opts: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {},
  ): Promise<CommandResult> {
    const netns = typeof node === 'string' ? node : node.netns;
    return runCommand(['ip', 'netns', 'exec', netns, ...argv], opts);
  }

  stopNodeComponent(node: string, component: NodeComponent): Promise<void> {
    return stopNodeComponent(this.deps.store, node, component);
  }

  startNodeComponent(node: string, component: NodeComponent): void {
    restartNodeComponent({ store: this.deps.store, logDir: this.deps.files.logDir }, node, component);
  }

  /** Stops one control-plane component (e.g. to simulate an API outage). */
  async stopComponent(name: ComponentName): Promise<void> {
    await this.deps.controlPlane.stop(name);
  }

  /** Starts a stopped component again; for kube-apiserver it resolves once /readyz answers. */
  async startComponent(name: ComponentName, timeoutMs = 90_000): Promise<void> {
    await this.deps.controlPlane.start(name);
    if (name === 'kube-apiserver') {
      await this.deps.controlPlane.waitForApiServer(this.deps.endpoint, timeoutMs, [
        'etcd',
        'kube-apiserver',
      ]);
    }
  }

  /** Full teardown; idempotent. Pass keepLogs to leave `<runDir>/logs` behind. */
  async stop(opts: { keepLogs?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    await destroyCluster(this.name, this.deps.spec.runRoot, { ...opts, log: this.deps.log });
    this.stopped = true;
  }
}
