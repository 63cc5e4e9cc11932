import { spawn } from 'node:child_process';
import type { IpFamily } from '../../../common/ip.js';
import { BatchSession } from './batch-session.js';
import { type BatchFailure, classifyStderr, NetlinkError, parseBatchFailures } from './netlink-errors.js';
import {
  type FdbRecord,
  type LinkAddrs,
  type LinkRecord,
  type NeighRecord,
  parseAddrs,
  parseFdb,
  parseLinks,
  parseNeighbours,
  parseNftCounters,
  parseNftTable,
  parseRoutes,
  parseRules,
  type RouteRecord,
  type RuleRecord,
} from './netlink-parse.js';
import type { NftTableState } from './state.js';

/** A table never used, or a family the kernel runs without (IPv6 disabled at boot): no routes. */
const noRoutes = (err: unknown): boolean =>
  err instanceof NetlinkError && (err.code === 'ENOTABLE' || err.code === 'EAFNOSUPPORT');

export interface CommandResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs one program; injectable so that argument building can be tested without a kernel. */
export type CommandRunner = (cmd: string, args: readonly string[], input?: string) => Promise<CommandResult>;

/**
 * The real runner: node:child_process directly (execa's extra layers cost memory
 * and a millisecond or two per call on the one-change path). Resolves with the
 * exit code whatever it is; rejects only when the program could not run or died
 * from a signal.
 */
export const runCommand: CommandRunner = (cmd, args, input) =>
  new Promise((resolve, reject) => {
    const line = [cmd, ...args].join(' ');
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    // The tool may exit before reading all its input (EPIPE); its exit status tells.
    child.stdin.on('error', () => undefined);
    child.on('error', (e) => reject(new NetlinkError('EEXEC', line, e.message, { cause: e })));
    child.on('close', (code, signal) => {
      if (code === null) {
        reject(new NetlinkError('EEXEC', line, `terminated by ${signal ?? 'a signal'}`));
        return;
      }
      resolve({
        exitCode: code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.end(input ?? '');
  });

export interface NetlinkOptions {
  /** Named network namespace (/run/netns/<name>); undefined = the process's own. */
  readonly netns?: string;
  readonly run?: CommandRunner;
  /**
   * Keep resident `ip -batch` / `bridge -batch` processes for runIpBatch and
   * runBridgeBatch instead of one process per batch. Default: on with the real
   * runner, off when `run` is injected (so fakes see every batch).
   */
  readonly batchSessions?: boolean;
}

/**
 * The only place that runs `ip`, `bridge`, `nft` and `sysctl`. Every call targets
 * one network namespace, so the agent can program its node's root namespace and a
 * test can program a throwaway namespace with the same code.
 */
export class Netlink {
  readonly netns: string | undefined;
  private readonly run: CommandRunner;
  private readonly sessions: { readonly ip: BatchSession; readonly bridge: BatchSession } | undefined;

  constructor(opts: NetlinkOptions = {}) {
    this.netns = opts.netns;
    this.run = opts.run ?? runCommand;
    if (opts.batchSessions ?? opts.run === undefined) {
      const session = (tool: 'ip' | 'bridge') =>
        new BatchSession(tool, { args: this.iproute(tool, [])[1], netns: this.netns });
      this.sessions = { ip: session('ip'), bridge: session('bridge') };
    }
  }

  /** Ends the resident batch processes (they also end on their own when idle). */
  close(): void {
    this.sessions?.ip.close();
    this.sessions?.bridge.close();
  }

  /** Argument vector for an iproute2 tool (they all take -n <netns>). */
  private iproute(tool: 'ip' | 'bridge', args: readonly string[]): [string, string[]] {
    return [tool, this.netns === undefined ? [...args] : ['-n', this.netns, ...args]];
  }

  /** Argument vector for a tool without a netns option: nsenter into the namespace. */
  private entered(tool: string, args: readonly string[]): [string, string[]] {
    if (this.netns === undefined) return [tool, [...args]];
    return ['nsenter', [`--net=/run/netns/${this.netns}`, tool, ...args]];
  }

  private async exec([cmd, args]: [string, string[]], input?: string): Promise<string> {
    const r = await this.run(cmd, args, input);
    if (r.exitCode !== 0) {
      const detail = r.stderr.trim() || `exit code ${r.exitCode}`;
      throw new NetlinkError(classifyStderr(detail), [cmd, ...args].join(' '), detail);
    }
    return r.stdout;
  }

  async listLinks(): Promise<LinkRecord[]> {
    return parseLinks(await this.exec(this.iproute('ip', ['-d', '-json', 'link', 'show'])));
  }

  /** Addresses of both families per link (IPv6 without link- and host-scope ones). */
  async listAddrs(): Promise<LinkAddrs[]> {
    return parseAddrs(await this.exec(this.iproute('ip', ['-json', 'addr', 'show'])));
  }

  /**
   * Routes of one family (default IPv4) in a table (default main), optionally only those with
   * `protocol`; a table never used has none.
   */
  async listRoutes(
    protocol?: number,
    table: number | 'main' = 'main',
    family: IpFamily = 4,
  ): Promise<RouteRecord[]> {
    const filter = protocol === undefined ? [] : ['proto', String(protocol)];
    const args = ['-json', `-${family}`, 'route', 'show', 'table', String(table), ...filter];
    try {
      return parseRoutes(await this.exec(this.iproute('ip', args)));
    } catch (err) {
      if (noRoutes(err)) return [];
      throw err;
    }
  }

  /** IPv4 policy-routing rules, optionally only those with `protocol`. */
  async listRules(protocol?: number): Promise<RuleRecord[]> {
    const rules = parseRules(await this.exec(this.iproute('ip', ['-json', '-4', 'rule', 'show'])));
    return protocol === undefined ? rules : rules.filter((r) => r.protocol === String(protocol));
  }

  /**
   * Routes through `dev` in the main table that may be directly connected: IPv4 link-scope
   * ones; for IPv6 (whose routes all have scope global) every one, for the caller to keep those
   * without a gateway.
   */
  async listConnectedRoutes(dev: string, family: IpFamily = 4): Promise<RouteRecord[]> {
    const scope = family === 4 ? ['scope', 'link'] : [];
    const args = ['-json', `-${family}`, 'route', 'show', 'table', 'main', 'dev', dev, ...scope];
    return parseRoutes(await this.exec(this.iproute('ip', args))).map((r) => ({ ...r, dev }));
  }

  /** Neighbour entries of both families on `dev`. */
  async listNeighbours(dev: string): Promise<NeighRecord[]> {
    return parseNeighbours(await this.exec(this.iproute('ip', ['-json', 'neigh', 'show', 'dev', dev])));
  }

  async listFdb(dev: string): Promise<FdbRecord[]> {
    return parseFdb(await this.exec(this.iproute('bridge', ['-json', 'fdb', 'show', 'dev', dev])));
  }

  /** Table `family name` in comparable form, or undefined when it does not exist. */
  async readNftTable(family: string, name: string): Promise<NftTableState | undefined> {
    try {
      return parseNftTable(await this.exec(this.entered('nft', ['-j', 'list', 'table', family, name])));
    } catch (err) {
      if (err instanceof NetlinkError && err.code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Packets per named counter of a table; an absent table reads as none. */
  async readNftCounters(family: string, name: string): Promise<Map<string, number>> {
    try {
      return parseNftCounters(
        await this.exec(this.entered('nft', ['-j', 'list', 'counters', 'table', family, name])),
      );
    } catch (err) {
      if (err instanceof NetlinkError && err.code === 'ENOENT') return new Map();
      throw err;
    }
  }

  /** True when nft accepts the script (`nft -c -f -`: checked against the kernel, nothing applied). */
  async checkNftScript(script: string): Promise<boolean> {
    try {
      await this.exec(this.entered('nft', ['-c', '-f', '-']), script);
      return true;
    } catch (err) {
      if (err instanceof NetlinkError) return false;
      throw err;
    }
  }

  /** Runs an nft script as one transaction (`nft -f -`): all of it applies or none. */
  async runNftScript(script: string): Promise<void> {
    await this.exec(this.entered('nft', ['-f', '-']), script);
  }

  /** Current values of sysctl keys ("net.ipv4.ip_forward"); a missing key reads as "". */
  async readSysctls(keys: readonly string[]): Promise<Map<string, string>> {
    const values = new Map<string, string>();
    for (const key of keys) {
      try {
        values.set(key, (await this.exec(this.entered('sysctl', ['-n', key]))).trim());
      } catch (err) {
        if (!(err instanceof NetlinkError)) throw err;
        values.set(key, '');
      }
    }
    return values;
  }

  async writeSysctls(entries: ReadonlyMap<string, string>): Promise<void> {
    if (entries.size === 0) return;
    const args = [...entries].map(([k, v]) => `${k}=${v}`);
    await this.exec(this.entered('sysctl', ['-q', '-w', ...args]));
  }

  /**
   * `ip -batch - -force`: runs every line, returns the lines that failed.
   * `fresh`: devices were created or deleted since the last batch (see BatchSession.run).
   */
  async runIpBatch(lines: readonly string[], fresh = false): Promise<BatchFailure[]> {
    return this.batch('ip', lines, fresh);
  }

  /** `bridge -batch - -force` (FDB entries). */
  async runBridgeBatch(lines: readonly string[], fresh = false): Promise<BatchFailure[]> {
    return this.batch('bridge', lines, fresh);
  }

  private async batch(
    tool: 'ip' | 'bridge',
    lines: readonly string[],
    fresh: boolean,
  ): Promise<BatchFailure[]> {
    if (lines.length === 0) return [];
    if (this.sessions) return this.sessions[tool].run(lines, fresh);
    const [cmd, args] = this.iproute(tool, ['-batch', '-', '-force']);
    const r = await this.run(cmd, args, `${lines.join('\n')}\n`);
    if (r.exitCode === 0) return [];
    const failures = parseBatchFailures(r.stderr, lines);
    if (failures.length > 0) return failures;
    // Failed without naming a line (e.g. the namespace is gone): every line counts as failed.
    const detail = r.stderr.trim() || `exit code ${r.exitCode}`;
    const error = new NetlinkError(classifyStderr(detail), `${tool} -batch`, detail);
    return lines.map((line, index) => ({ index, line, error }));
  }

  /** Removes every route of one family (default IPv4) in a table (default main) that carries `protocol`. */
  async flushRoutes(protocol: number, table: number | 'main' = 'main', family: IpFamily = 4): Promise<void> {
    const args = [`-${family}`, 'route', 'flush', 'table', String(table), 'proto', String(protocol)];
    try {
      await this.exec(this.iproute('ip', args));
    } catch (err) {
      if (!noRoutes(err)) throw err;
    }
  }
}
