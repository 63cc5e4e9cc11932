/**
 * Starts and stops a containerd 2.x of its own (containerd-config.ts) inside a named network
 * namespace, entered with `nsenter --net` (not `ip netns exec`, which remounts /sys and hides
 * the cgroup mounts). `stop()` removes everything the instance made, also after a crash: its
 * containers and shims, the mounts under its directory, the cgroups of the containers `run`
 * started, the shims' sockets, and the directory itself.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../../common/backoff.js';
import { WeftError } from '../../common/errors.js';
import { type CommandResult, type RunOptions, runChecked, runCommand } from '../cluster/exec.js';
import { type ProcessRecord, spawnDetached, stopRecordedProcess } from '../cluster/processes.js';
import {
  type ContainerdConfigOptions,
  type ContainerdPaths,
  containerdPaths,
  renderContainerdConfig,
} from './containerd-config.js';
import { type CtrRunSpec, ctrRunArgs } from './ctr-args.js';
import { cgroupDirs, killCgroupProcesses, removeCgroupTree, unmountUnder } from './host-cleanup.js';

export class ContainerdError extends WeftError {}

/** The namespace the CRI plugin (so kubelet) uses; images for pods must be imported into it. */
export const CRI_NAMESPACE = 'k8s.io';

export interface ContainerdOptions extends ContainerdConfigOptions {
  /** Everything of the instance goes here (created; removed by stop()). Keep it short: see shimSocketDir. */
  dir: string;
  /** Holds containerd, containerd-shim-runc-v2 and ctr; crictl too, for the CRI checks. */
  binDir: string;
  /** The named network namespace (/var/run/netns/<name>) containerd and its containers live in. */
  netns: string;
  /** cgroup parent of the containers `run` starts (one level, e.g. "weft-ctrd-1a2b"); removed by stop(). */
  cgroupParent: string;
  readyTimeoutMs?: number;
}

export class Containerd {
  readonly paths: ContainerdPaths;
  private stopped = false;

  private constructor(
    readonly opts: ContainerdOptions,
    private readonly proc: ProcessRecord,
  ) {
    this.paths = containerdPaths(opts.dir);
  }

  /** Writes the config, starts containerd and waits until both ctr and (with crictl) the CRI answer. */
  static async start(opts: ContainerdOptions): Promise<Containerd> {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(opts.cgroupParent)) {
      throw new ContainerdError(
        'EBADSPEC',
        `cgroupParent must be one path element, got ${opts.cgroupParent}`,
      );
    }
    const paths = containerdPaths(opts.dir);
    const dirs = [
      paths.root,
      paths.state,
      paths.temp,
      paths.fifoDir,
      paths.opt,
      paths.cniConfDir,
      paths.cniBinDir,
    ];
    if (paths.shimSocketDir !== undefined) dirs.push(paths.shimSocketDir);
    for (const d of dirs) mkdirSync(d, { recursive: true, mode: 0o711 });
    writeFileSync(paths.config, renderContainerdConfig(paths, opts));
    const { record, exited } = spawnDetached({
      id: 'containerd',
      argv: [
        'nsenter',
        `--net=/var/run/netns/${opts.netns}`,
        join(opts.binDir, 'containerd'),
        '--config',
        paths.config,
      ],
      env: { PATH: `${opts.binDir}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` },
      logFile: paths.log,
    });
    const c = new Containerd(opts, record);
    try {
      await c.waitReady(exited, opts.readyTimeoutMs ?? 30_000);
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  get address(): string {
    return this.paths.address;
  }

  /** What import.ts needs to reach this instance. */
  get endpoint(): { ctr: string; address: string } {
    return { ctr: join(this.opts.binDir, 'ctr'), address: this.paths.address };
  }

  /** `ctr --address … -n <namespace> <args>`; throws on a non-zero exit. */
  ctr(args: readonly string[], opts: RunOptions & { namespace?: string } = {}): Promise<string> {
    return runChecked(this.ctrArgv(args, opts.namespace), opts);
  }

  ctrResult(args: readonly string[], opts: RunOptions & { namespace?: string } = {}): Promise<CommandResult> {
    return runCommand(this.ctrArgv(args, opts.namespace), opts);
  }

  /** `crictl` against this instance's CRI (runtime and image endpoint). */
  crictl(args: readonly string[], opts: RunOptions = {}): Promise<string> {
    const endpoint = `unix://${this.paths.address}`;
    return runChecked(
      [
        join(this.opts.binDir, 'crictl'),
        '--runtime-endpoint',
        endpoint,
        '--image-endpoint',
        endpoint,
        '--timeout',
        '20s',
        ...args,
      ],
      opts,
    );
  }

  /** The argv of `ctr run` for `spec` in this instance (runc, its root, FIFOs, cgroup parent). */
  runArgv(spec: CtrRunSpec): string[] {
    return this.ctrArgv(
      ctrRunArgs(spec, {
        runcBinary: this.opts.runcBinary ?? '/usr/sbin/runc',
        runcRoot: this.paths.runcRoot,
        fifoDir: this.paths.fifoDir,
        cgroupParent: this.opts.cgroupParent,
      }),
      spec.namespace,
    );
  }

  /** Removes everything the instance made (idempotent; never throws for what is already gone). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const problems: string[] = [];
    const step = async (what: string, fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (err) {
        problems.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    const tasks = taskDirs(this.paths.state);
    await step('remove CRI pods', () => this.removeCriPods());
    await step('remove containers', () => this.removeContainers());
    await step('stop containerd', () => stopRecordedProcess(this.proc, 'SIGTERM', 10_000));
    await step('kill shims', async () => killShims(this.paths.address));
    await step('kill container processes', () => killCgroupProcesses(this.opts.cgroupParent));
    await step('unmount', () => unmountUnder(this.paths.dir));
    await step('remove cgroups', async () => {
      for (const d of cgroupDirs(this.opts.cgroupParent)) removeCgroupTree(d);
    });
    await step('remove shim sockets', async () => removeShimSockets(this.paths, tasks));
    await step('remove dir', async () => rmSync(this.paths.dir, { recursive: true, force: true }));
    if (problems.length > 0)
      throw new ContainerdError('ECLEANUP', `containerd teardown: ${problems.join('; ')}`);
  }

  private ctrArgv(args: readonly string[], namespace = CRI_NAMESPACE): string[] {
    return [
      join(this.opts.binDir, 'ctr'),
      '--address',
      this.paths.address,
      '--namespace',
      namespace,
      ...args,
    ];
  }

  private async waitReady(exited: Promise<unknown>, timeoutMs: number): Promise<void> {
    let gone = false;
    void exited.then(() => {
      gone = true;
    });
    const withCri = existsSync(join(this.opts.binDir, 'crictl'));
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (gone) break;
      const r = await this.ctrResult(['version'], { timeoutMs: 5000 });
      if (r.code === 0) {
        if (!withCri) return;
        try {
          await this.crictl(['info'], { timeoutMs: 5000 });
          return;
        } catch (err) {
          last = err instanceof Error ? err.message : String(err);
        }
      } else {
        last = r.stderr.trim();
      }
      await sleep(100);
    }
    const log = existsSync(this.paths.log)
      ? readFileSync(this.paths.log, 'utf8').split('\n').slice(-15).join('\n')
      : '';
    throw new ContainerdError(
      'ESTART',
      `containerd ${gone ? 'exited' : `not ready after ${timeoutMs} ms`} (${last}); log ${this.paths.log}:\n${log}`,
    );
  }

  private async removeCriPods(): Promise<void> {
    if (!existsSync(join(this.opts.binDir, 'crictl')) || !this.alive()) return;
    const pods = (await this.crictl(['pods', '-q'])).trim();
    if (pods !== '') await this.crictl(['rmp', '-f', '-a'], { timeoutMs: 60_000 });
  }

  private async removeContainers(): Promise<void> {
    if (!this.alive()) return;
    const namespaces = (await this.ctr(['namespaces', 'ls', '-q'])).split('\n').filter((n) => n !== '');
    for (const ns of namespaces) {
      const ids = (await this.ctr(['containers', 'ls', '-q'], { namespace: ns }))
        .split('\n')
        .filter((n) => n !== '');
      for (const id of ids) {
        await this.ctrResult(['tasks', 'kill', '-s', 'SIGKILL', id], { namespace: ns });
        await this.ctrResult(['tasks', 'delete', '-f', id], { namespace: ns, timeoutMs: 30_000 });
        await this.ctr(['containers', 'delete', id], { namespace: ns });
      }
    }
  }

  private alive(): boolean {
    try {
      process.kill(this.proc.pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

/** (namespace, id) of every task the instance has a bundle for: the shims' socket names derive from them. */
function taskDirs(state: string): { ns: string; id: string }[] {
  const base = join(state, 'io.containerd.runtime.v2.task');
  const out: { ns: string; id: string }[] = [];
  for (const ns of safeReaddir(base)) for (const id of safeReaddir(join(base, ns))) out.push({ ns, id });
  return out;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The shim socket name for a task, as containerd's shim package makes it: sha256 of <address>/<ns>/<id>. */
export function shimSocketName(address: string, ns: string, id: string, debug = false): string {
  const path = join(address, ns, id, ...(debug ? ['debug'] : []));
  return createHash('sha256').update(path).digest('hex');
}

function removeShimSockets(paths: ContainerdPaths, tasks: readonly { ns: string; id: string }[]): void {
  const dir = paths.shimSocketDir ?? '/run/containerd/s';
  for (const t of tasks) {
    for (const debug of [false, true])
      rmSync(join(dir, shimSocketName(paths.address, t.ns, t.id, debug)), { force: true });
  }
}

/** SIGKILLs every containerd shim that serves the containerd at `address` (found by its argv). */
function killShims(address: string): void {
  for (const pid of safeReaddir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const i = argv.indexOf('-address');
    if (argv[0]?.includes('containerd-shim') && i >= 0 && argv[i + 1] === address) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}
