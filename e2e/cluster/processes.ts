import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { sleep } from '../../common/backoff.js';
import { ClusterError } from './spec.js';

/** Exit code of the root-netns forwarder when its port is taken. */
export const FORWARDER_EXIT_PORT_IN_USE = 3;

/** A detached process as recorded in the state file; `startTime` guards against pid reuse. */
export interface ProcessRecord {
  id: string; // "kube-apiserver", "forwarder-root", "<node>/<argv0 basename>#<n>"
  pid: number;
  startTime: string; // field 22 of /proc/<pid>/stat
  netns?: string;
  logFile: string;
  argv: string[];
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running process started by the harness: its own process group, output in `logFile`. */
export interface NodeProcess {
  readonly id: string;
  readonly pid: number;
  readonly logFile: string;
  readonly exited: Promise<ProcessExit>;
  /** Signals the whole process group, escalates to SIGKILL after `timeoutMs`; resolves once it is gone. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
}

/** Start time of `pid` in clock ticks since boot, or undefined when it is gone or a zombie. */
export function readProcStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
  return rest[19];
}

export function isRecordAlive(rec: Pick<ProcessRecord, 'pid' | 'startTime'>): boolean {
  return readProcStartTime(rec.pid) === rec.startTime;
}

/**
 * Spawns argv (inside `netns` when given, via `ip netns exec`, which execs in place so the
 * pid is the command's) detached in its own process group, stdout+stderr appended to
 * `logFile`. The child is unref'd: a CLI `up` may exit and leave it running.
 */
export function spawnDetached(opts: {
  id: string;
  argv: string[];
  netns?: string;
  env?: Record<string, string>;
  logFile: string;
}): { record: ProcessRecord; child: ChildProcess; exited: Promise<ProcessExit> } {
  const full = opts.netns ? ['ip', 'netns', 'exec', opts.netns, ...opts.argv] : opts.argv;
  const [file, ...args] = full as [string, ...string[]];
  mkdirSync(dirname(opts.logFile), { recursive: true });
  const fd = openSync(opts.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(file, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
    });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new ClusterError('ESPAWN', `cannot start ${opts.id}: ${full.join(' ')}`);
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: 127, signal: null }));
  });
  child.unref();
  const record: ProcessRecord = {
    id: opts.id,
    pid,
    startTime: readProcStartTime(pid) ?? 'gone',
    logFile: opts.logFile,
    argv: full,
  };
  if (opts.netns) record.netns = opts.netns;
  return { record, child, exited };
}

/** Sends `signal` to the process group of `rec` (if it is still that process); SIGKILL after `timeoutMs`. */
export async function stopRecordedProcess(
  rec: Pick<ProcessRecord, 'pid' | 'startTime'>,
  signal: NodeJS.Signals = 'SIGTERM',
  timeoutMs = 5000,
): Promise<void> {
  if (!isRecordAlive(rec)) return;
  signalGroup(rec.pid, signal);
  const deadline = Date.now() + timeoutMs;
  while (isRecordAlive(rec)) {
    if (Date.now() > deadline) {
      signalGroup(rec.pid, 'SIGKILL');
      await waitGone(rec, 5000);
      return;
    }
    await sleep(50);
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal); // not a group leader (should not happen) or already gone
    } catch {
      /* gone */
    }
  }
}

async function waitGone(rec: Pick<ProcessRecord, 'pid' | 'startTime'>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (isRecordAlive(rec) && Date.now() < deadline) await sleep(50);
  if (isRecordAlive(rec)) throw new ClusterError('EKILL', `process ${rec.pid} survived SIGKILL`);
}

/** An exit promise for a process this process did not spawn (attached clusters): polls /proc. */
export async function pollExit(rec: Pick<ProcessRecord, 'pid' | 'startTime'>): Promise<ProcessExit> {
  while (isRecordAlive(rec)) await sleep(250);
  return { code: null, signal: null };
}

/** Kills every process still inside `netns` (agents may fork helpers the harness never saw). */
export async function killNetnsProcesses(
  netns: string,
  listPids: (netns: string) => Promise<number[]>,
): Promise<void> {
  for (let round = 0; round < 3; round++) {
    const pids = await listPids(netns);
    if (pids.length === 0) return;
    const sig: NodeJS.Signals = round === 0 ? 'SIGTERM' : 'SIGKILL';
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        /* gone */
      }
    }
    await sleep(round === 0 ? 1000 : 200);
  }
}
