/**
 * A small container runtime's CNI side, for tests, the cluster e2e and the
 * benchmark: executes a conflist for ADD/CHECK/DEL/GC/STATUS the way libcni does
 * (plugins in order for ADD/CHECK/STATUS/GC, in reverse for DEL; `name`, the
 * selected `cniVersion`, `prevResult` and capability `runtimeConfig` injected
 * into each plugin's config; CNI_* environment; plugins found on CNI_PATH).
 * The version is selected as libcni ≥ 1.2 does (the newest of `cniVersion` and
 * `cniVersions` it knows) or, with libcniVersion 1.0.0, as libcni 1.1 does
 * (`cniVersion` only); STATUS and GC are sent only from 1.1.0 on. Plugins run
 * inside the node's network namespace (`nodeNetns`), as they would on a real node.
 */
import { spawn } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compareVersions } from '../../src/cni/versions.js';

export interface PluginRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A plugin's error answer (`{cniVersion, code, msg, details}`) or an unusable answer. */
export class CniPluginError extends Error {
  constructor(
    readonly plugin: string,
    readonly code: number,
    readonly msg: string,
    readonly details: string,
  ) {
    super(`${plugin}: CNI error ${code}: ${msg}${details ? ` (${details})` : ''}`);
  }
}

export interface RuntimeAttachment {
  readonly containerId: string;
  /** Path of the pod's netns, e.g. /var/run/netns/x. */
  readonly netns: string;
  readonly ifname?: string;
  readonly args?: string;
  /** Capability arguments, e.g. { portMappings: [{hostPort, containerPort, protocol}] }. */
  readonly capabilityArgs?: Readonly<Record<string, unknown>>;
}

export interface Conflist {
  readonly cniVersion: string;
  readonly cniVersions?: readonly string[];
  readonly name: string;
  readonly plugins: ReadonlyArray<Record<string, unknown>>;
}

/**
 * The version a runtime runs a conflist at. libcni ≥ 1.2 (its newest spec version
 * 1.1.0) takes the newest of `cniVersion` and `cniVersions` it knows; libcni 1.1
 * (newest 1.0.0) reads `cniVersion` only.
 */
export function selectConflistVersion(conflist: Conflist, libcniVersion: string): string {
  if (compareVersions(libcniVersion, '1.1.0') < 0) return conflist.cniVersion;
  const known = [conflist.cniVersion, ...(conflist.cniVersions ?? [])].filter(
    (v) => compareVersions(v, libcniVersion) <= 0,
  );
  return known.sort(compareVersions).at(-1) ?? conflist.cniVersion;
}

/** Runs one plugin binary with env and stdin; optionally inside the netns at `netnsPath`. */
export function execPlugin(
  binary: string,
  env: Readonly<Record<string, string>>,
  stdin: string,
  netnsPath?: string,
): Promise<PluginRun> {
  const [file, args] = netnsPath ? ['nsenter', [`--net=${netnsPath}`, binary]] : [binary, []];
  return new Promise((resolve, reject) => {
    const child = spawn(file as string, args as string[], { env: { PATH: process.env.PATH ?? '', ...env } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        exitCode: code ?? 255,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      }),
    );
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
  });
}

export class CniRuntime {
  /** The spec version this runtime runs the conflist at. */
  readonly cniVersion: string;

  constructor(
    readonly conflist: Conflist,
    /** CNI_PATH, searched in order for each plugin's `type`. */
    readonly binDirs: readonly string[],
    /** Path of the node's netns the plugins run in; undefined = the caller's own. */
    readonly nodeNetns?: string,
    /** The newest spec version of the emulated libcni: 1.1.0 (≥ 1.2, containerd 2.x) or 1.0.0 (1.1, containerd 1.7). */
    readonly libcniVersion = '1.1.0',
  ) {
    this.cniVersion = selectConflistVersion(conflist, libcniVersion);
  }

  static async load(
    conflistPath: string,
    binDirs: readonly string[],
    nodeNetns?: string,
    libcniVersion?: string,
  ): Promise<CniRuntime> {
    const conflist = JSON.parse(await readFile(conflistPath, 'utf8')) as Conflist;
    return new CniRuntime(conflist, binDirs, nodeNetns, libcniVersion);
  }

  /** Whether this runtime sends STATUS and GC for the conflist (spec 1.1.0 and later). */
  get sendsStatusAndGc(): boolean {
    return compareVersions(this.cniVersion, '1.1.0') >= 0;
  }

  /** STATUS to every plugin in order, stopping at the first error; false when the version has no STATUS. */
  async status(): Promise<boolean> {
    if (!this.sendsStatusAndGc) return false;
    for (const plugin of this.conflist.plugins) await this.invoke('STATUS', plugin, undefined);
    return true;
  }

  /**
   * GC to every plugin with the still-valid attachments (under both names libcni
   * injects), collecting errors; false when the version has no GC. (libcni also
   * DELs the attachments it cached and that are not valid; this runtime keeps no cache.)
   */
  async gc(valid: ReadonlyArray<{ containerId: string; ifname?: string }>): Promise<boolean> {
    if (!this.sendsStatusAndGc) return false;
    const list = valid.map((a) => ({ containerID: a.containerId, ifname: a.ifname ?? 'eth0' }));
    const extra = { 'cni.dev/valid-attachments': list, 'cni.dev/attachments': list };
    const errors: unknown[] = [];
    for (const plugin of this.conflist.plugins)
      await this.invoke('GC', plugin, undefined, undefined, extra).catch((e: unknown) => errors.push(e));
    if (errors.length > 0) throw new AggregateError(errors, `GC failed in ${errors.length} plugin(s)`);
    return true;
  }

  /** ADD through the whole list; returns the final result (keep it for CHECK/DEL). */
  async add(a: RuntimeAttachment): Promise<Record<string, unknown>> {
    let prev: unknown;
    for (const plugin of this.conflist.plugins) prev = await this.invoke('ADD', plugin, a, prev);
    return prev as Record<string, unknown>;
  }

  async check(a: RuntimeAttachment, result: unknown): Promise<void> {
    for (const plugin of this.conflist.plugins) await this.invoke('CHECK', plugin, a, result);
  }

  async del(a: RuntimeAttachment, result?: unknown): Promise<void> {
    for (const plugin of [...this.conflist.plugins].reverse()) await this.invoke('DEL', plugin, a, result);
  }

  /** Runs one plugin of the list (by index) with a command; for tests of single verbs. */
  async invoke(
    command: string,
    plugin: Record<string, unknown>,
    a: RuntimeAttachment | undefined,
    prevResult?: unknown,
    extra: Record<string, unknown> = {},
  ): Promise<unknown> {
    const config: Record<string, unknown> = {
      ...plugin,
      name: this.conflist.name,
      cniVersion: this.cniVersion,
      ...extra,
    };
    if (prevResult !== undefined) config.prevResult = prevResult;
    const caps = plugin.capabilities as Record<string, boolean> | undefined;
    const runtimeConfig: Record<string, unknown> = {};
    for (const [cap, value] of Object.entries(a?.capabilityArgs ?? {}))
      if (caps?.[cap]) runtimeConfig[cap] = value;
    if (Object.keys(runtimeConfig).length > 0) config.runtimeConfig = runtimeConfig;
    const type = String(plugin.type);
    const binary = await this.findPlugin(type);
    const env: Record<string, string> = { CNI_COMMAND: command, CNI_PATH: this.binDirs.join(':') };
    if (a) {
      env.CNI_CONTAINERID = a.containerId;
      env.CNI_NETNS = a.netns;
      env.CNI_IFNAME = a.ifname ?? 'eth0';
      if (a.args) env.CNI_ARGS = a.args;
    }
    const run = await execPlugin(binary, env, JSON.stringify(config), this.nodeNetns);
    return parsePluginAnswer(type, run);
  }

  private async findPlugin(type: string): Promise<string> {
    for (const dir of this.binDirs) {
      const p = join(dir, type);
      if (
        await access(p).then(
          () => true,
          () => false,
        )
      )
        return p;
    }
    throw new Error(`plugin ${type} not found in ${this.binDirs.join(':')}`);
  }
}

/** Interprets a plugin's exit code and stdout; throws CniPluginError on failure. */
export function parsePluginAnswer(plugin: string, run: PluginRun): unknown {
  const text = run.stdout.trim();
  if (run.exitCode === 0) return text === '' ? undefined : JSON.parse(text);
  let body: { code?: number; msg?: string; details?: string } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new CniPluginError(plugin, -1, `exit ${run.exitCode} without an error object`, run.stderr.trim());
  }
  throw new CniPluginError(plugin, body.code ?? -1, body.msg ?? '', body.details ?? '');
}
