import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../../common/backoff.js';
import type { Logger } from '../../common/log.js';
import { type ApiEndpoint, apiRequest } from './api-client.js';
import {
  apiServerArgs,
  type ControlPlaneFiles,
  controllerManagerArgs,
  etcdArgs,
  schedulerArgs,
} from './flags.js';
import { API_PORT, type ClusterPlan, loopbackIp } from './plan.js';
import { tail } from './prereq.js';
import {
  FORWARDER_EXIT_PORT_IN_USE,
  isRecordAlive,
  type ProcessExit,
  type ProcessRecord,
  spawnDetached,
  stopRecordedProcess,
} from './processes.js';
import { ClusterError } from './spec.js';
import type { ClusterStateStore } from './state.js';

export const COMPONENTS = [
  'forwarder-root',
  'forwarder-cp',
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
] as const;
export type ComponentName = (typeof COMPONENTS)[number];

export interface ComponentContext {
  plan: ClusterPlan;
  files: ControlPlaneFiles;
  binDir: string;
  allocateNodeCidrs: boolean;
  /** Real nodes: kube-apiserver reaches kubelets, the controller manager runs every controller. */
  kubelet: boolean;
  adminPort: number;
  nodeExecPath: string; // the Node binary that runs the forwarders
  forwarderScript: string;
}

/** The command line of a control-plane component and the namespace it runs in (pure). */
export function componentCommand(
  name: ComponentName,
  ctx: ComponentContext,
): { argv: string[]; netns?: string } {
  const cp = ctx.plan.controlPlaneNetns;
  const f = ctx.files;
  switch (name) {
    case 'forwarder-root':
      return {
        argv: [
          ctx.nodeExecPath,
          ctx.forwarderScript,
          'tcp-to-unix',
          String(ctx.adminPort),
          f.cpSocket,
          f.adminPortFile,
        ],
      };
    case 'forwarder-cp':
      return {
        argv: [
          ctx.nodeExecPath,
          ctx.forwarderScript,
          'unix-to-tcp',
          f.cpSocket,
          loopbackIp(ctx.plan.ipFamily),
          String(API_PORT),
        ],
        netns: cp,
      };
    case 'etcd':
      return { argv: [join(ctx.binDir, 'etcd'), ...etcdArgs(f, ctx.plan.ipFamily)], netns: cp };
    case 'kube-apiserver':
      return {
        argv: [join(ctx.binDir, 'kube-apiserver'), ...apiServerArgs(ctx.plan, f, ctx.kubelet)],
        netns: cp,
      };
    case 'kube-controller-manager':
      return {
        argv: [
          join(ctx.binDir, 'kube-controller-manager'),
          ...controllerManagerArgs(f, ctx.allocateNodeCidrs, ctx.kubelet, ctx.plan.ipFamily),
        ],
        netns: cp,
      };
    case 'kube-scheduler':
      return {
        argv: [join(ctx.binDir, 'kube-scheduler'), ...schedulerArgs(f, ctx.plan.ipFamily)],
        netns: cp,
      };
  }
}

/** Starts, stops and watches the control-plane processes; every pid goes to the state file first. */
export class ControlPlane {
  private readonly exits = new Map<ComponentName, Promise<ProcessExit>>();

  constructor(
    private readonly ctx: ComponentContext,
    private readonly store: ClusterStateStore,
    private readonly log: Logger,
  ) {}

  record(name: ComponentName): ProcessRecord | undefined {
    return this.store.read()?.processes.find((p) => p.id === name);
  }

  isRunning(name: ComponentName): boolean {
    const rec = this.record(name);
    return rec !== undefined && isRecordAlive(rec);
  }

  async start(name: ComponentName): Promise<void> {
    if (this.isRunning(name)) throw new ClusterError('ECOMPONENT', `${name} is already running`);
    const cmd = componentCommand(name, this.ctx);
    const spawnOpts = { id: name, argv: cmd.argv, logFile: join(this.ctx.files.logDir, `${name}.log`) };
    const { record, exited } = spawnDetached(cmd.netns ? { ...spawnOpts, netns: cmd.netns } : spawnOpts);
    this.store.update((s) => {
      s.processes = [...s.processes.filter((p) => p.id !== name), record];
    });
    this.exits.set(name, exited);
    this.log.debug({ op: 'start', component: name, pid: record.pid }, 'component started');
  }

  async stop(name: ComponentName): Promise<void> {
    const rec = this.record(name);
    if (rec) await stopRecordedProcess(rec);
    this.store.update((s) => {
      s.processes = s.processes.filter((p) => p.id !== name);
    });
    this.exits.delete(name);
  }

  /** Waits for the root forwarder's port file; a taken port gets its own error. */
  async waitForAdminPort(timeoutMs: number, signal?: AbortSignal): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (existsSync(this.ctx.files.adminPortFile))
        return Number(readFileSync(this.ctx.files.adminPortFile, 'utf8'));
      if (!this.isRunning('forwarder-root')) {
        const exit = await this.exitOf('forwarder-root', 1000);
        if (exit?.code === FORWARDER_EXIT_PORT_IN_USE) {
          throw new ClusterError(
            'EPORTINUSE',
            `port 127.0.0.1:${this.ctx.adminPort} for the admin endpoint is already in use; pick another adminPort (--admin-port)`,
          );
        }
        throw this.failure('forwarder-root', 'the admin forwarder exited during start-up');
      }
      await sleep(50, signal);
    }
    throw this.failure('forwarder-root', `no admin port after ${timeoutMs} ms`);
  }

  /** Polls /readyz through the root forwarder until it answers 200 or `watch`ed components die. */
  async waitForApiServer(
    ep: ApiEndpoint,
    timeoutMs: number,
    watch: ComponentName[],
    signal?: AbortSignal,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      this.assertAlive(watch);
      try {
        const r = await apiRequest(ep, 'GET', '/readyz', { timeoutMs: 2000 });
        if (r.status === 200) return;
        last = `readyz ${r.status}: ${r.body.slice(0, 300)}`;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      await sleep(250, signal);
    }
    throw this.failure('kube-apiserver', `API server not ready after ${timeoutMs} ms (${last})`);
  }

  /** Throws with the log tail of the first component in `names` that is no longer running. */
  assertAlive(names: ComponentName[]): void {
    for (const n of names) {
      if (!this.isRunning(n)) throw this.failure(n, `${n} exited during start-up`);
    }
  }

  failure(name: ComponentName, message: string): ClusterError {
    const logFile = join(this.ctx.files.logDir, `${name}.log`);
    const text = existsSync(logFile) ? tail(readFileSync(logFile, 'utf8'), 25) : '(no log)';
    return new ClusterError('ESTARTFAILED', `${message}\n--- last lines of ${logFile} ---\n${text}`);
  }

  private async exitOf(name: ComponentName, waitMs: number): Promise<ProcessExit | undefined> {
    const p = this.exits.get(name);
    if (!p) return undefined;
    return Promise.race([p, sleep(waitMs).then(() => undefined)]);
  }
}
