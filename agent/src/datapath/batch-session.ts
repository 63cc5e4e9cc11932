import { type ChildProcess, spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { type BatchFailure, classifyStderr, NetlinkError } from './netlink-errors.js';

const FAILED_LINE = /^Command failed (?:-|\S+):(\d+)\s*$/;
/**
 * The end-of-batch marker: a read that always fails (a device name longer than
 * IFNAMSIZ can never exist) without making the tool exit, so its numbered
 * "Command failed -:N" line on stderr tells where the batch ended.
 */
const SENTINEL: Record<'ip' | 'bridge', string> = {
  ip: 'link show dev weft-batch-end-marker',
  bridge: 'fdb show dev weft-batch-end-marker',
};

interface Job {
  readonly lines: readonly string[];
  readonly fresh: boolean;
  readonly resolve: (failures: BatchFailure[]) => void;
  child?: ChildProcess;
  /** Line number (1-based, counted over the process's whole input) before the job's first line. */
  base: number;
  failures: BatchFailure[];
  pending: string[];
  timer?: NodeJS.Timeout;
}

export interface BatchSessionOptions {
  /** Arguments before `-force -batch -` (e.g. `-n <netns>`). */
  readonly args: readonly string[];
  /** Named netns the tool enters: the session restarts when /run/netns/<name> is a new namespace. */
  readonly netns?: string | undefined;
  readonly timeoutMs?: number;
  /** The process ends after this long without a batch; the next batch starts a new one. */
  readonly idleMs?: number;
}

/**
 * A resident `ip -force -batch -` (or `bridge …`): a batch costs a pipe write
 * instead of a fork of the agent. Each batch is followed by a sentinel command
 * that always fails; stderr's "Command failed -:N" lines, numbered over the
 * process's whole input, map errors to the batch's lines. Batches run one at a
 * time. A process that dies or stalls fails the lines it did not confirm and is
 * replaced on the next batch.
 */
export class BatchSession {
  private child: ChildProcess | undefined;
  private childNetns: number | undefined;
  private linesSent = 0;
  private stderrTail = '';
  private readonly queue: Job[] = [];
  private current: Job | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private netnsWatch: NodeJS.Timeout | undefined;
  private readonly timeoutMs: number;
  private readonly idleMs: number;

  constructor(
    private readonly tool: 'ip' | 'bridge',
    private readonly opts: BatchSessionOptions,
  ) {
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.idleMs = opts.idleMs ?? 120_000;
  }

  /**
   * Runs every line (errors do not stop the batch); resolves with the lines that
   * failed. `fresh`: in a new process. iproute2 caches device name → index for
   * its lifetime, so a batch that follows the deletion or creation of a device
   * needs a process that has not looked the old one up.
   */
  run(lines: readonly string[], fresh = false): Promise<BatchFailure[]> {
    if (lines.length === 0) return Promise.resolve([]);
    return new Promise((resolve) => {
      this.queue.push({ lines, fresh, resolve, base: 0, failures: [], pending: [] });
      this.pump();
    });
  }

  /** The resident process's pid, while there is one. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  close(): void {
    clearTimeout(this.idleTimer);
    const child = this.child;
    if (!child) return;
    child.kill();
    this.onExit(child, 'closed');
  }

  /** Inode of the named namespace, so a namespace recreated under the same name is noticed. */
  private netnsIdentity(): number | undefined {
    if (this.opts.netns === undefined) return undefined;
    try {
      return statSync(`/run/netns/${this.opts.netns}`).ino;
    } catch {
      return -1;
    }
  }

  private ensureChild(): ChildProcess {
    const netns = this.netnsIdentity();
    if (this.child && netns !== this.childNetns) this.close();
    if (this.child) return this.child;
    const child = spawn(this.tool, [...this.opts.args, '-force', '-batch', '-'], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    this.child = child;
    this.childNetns = netns;
    this.linesSent = 0;
    this.stderrTail = '';
    child.stdin?.on('error', () => undefined);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => this.onStderr(child, chunk));
    // 'close', not 'exit': stderr is drained by then.
    child.on('close', (code, signal) => this.onExit(child, `exited (${signal ?? `code ${code}`})`));
    child.on('error', (e) => this.onExit(child, e.message));
    if (this.opts.netns !== undefined) {
      // An idle process would keep a deleted namespace (and its devices) alive: end it.
      this.netnsWatch = setInterval(() => {
        if (!this.current && this.netnsIdentity() !== this.childNetns) this.close();
      }, 500);
      this.netnsWatch.unref();
    }
    // An idle session must not keep the agent's process alive.
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
    return child;
  }

  private pump(): void {
    if (this.current || this.queue.length === 0) return;
    clearTimeout(this.idleTimer);
    const job = this.queue.shift() as Job;
    this.current = job;
    if (job.fresh) this.close();
    const child = this.ensureChild();
    job.child = child;
    job.base = this.linesSent;
    this.linesSent += job.lines.length + 1;
    job.timer = setTimeout(() => {
      child.kill('SIGKILL');
      this.onExit(child, `timed out after ${this.timeoutMs} ms`);
    }, this.timeoutMs);
    child.stdin?.write(`${job.lines.join('\n')}\n${SENTINEL[this.tool]}\n`);
  }

  private onStderr(child: ChildProcess, chunk: string): void {
    if (child !== this.current?.child) return;
    const text = this.stderrTail + chunk;
    const cut = text.lastIndexOf('\n');
    this.stderrTail = text.slice(cut + 1);
    if (cut < 0) return;
    for (const line of text.slice(0, cut).split('\n')) this.onLine(line);
  }

  private onLine(text: string): void {
    const job = this.current;
    if (!job) return;
    const m = FAILED_LINE.exec(text);
    if (!m) {
      if (text.trim() !== '') job.pending.push(text.trim());
      return;
    }
    const index = Number(m[1]) - job.base - 1;
    const detail = job.pending.join('; ') || 'failed';
    job.pending = [];
    if (index === job.lines.length) {
      this.finish(job.failures);
      return;
    }
    const line = job.lines[index] ?? '';
    job.failures.push({ index, line, error: new NetlinkError(classifyStderr(detail), line, detail) });
  }

  /** The process is gone: the lines it did not report on count as failed. */
  private onExit(child: ChildProcess, why: string): void {
    if (child === this.child) {
      this.child = undefined;
      clearInterval(this.netnsWatch);
    }
    const job = this.current;
    if (!job || job.child !== child) return;
    const detail = [...job.pending, this.stderrTail.trim()].filter((t) => t !== '').join('; ') || why;
    const error = new NetlinkError(classifyStderr(detail), `${this.tool} -batch`, `${detail} (${why})`);
    const reported = new Set(job.failures.map((f) => f.index));
    job.lines.forEach((line, index) => {
      if (!reported.has(index)) job.failures.push({ index, line, error });
    });
    this.finish(job.failures);
  }

  private finish(failures: BatchFailure[]): void {
    const job = this.current;
    if (!job) return;
    this.current = undefined;
    clearTimeout(job.timer);
    // After a failure the name → index cache may be stale (a device went away): start afresh.
    if (failures.length > 0) this.close();
    job.resolve(failures.sort((a, b) => a.index - b.index));
    if (this.queue.length > 0) this.pump();
    else this.armIdle();
  }

  private armIdle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.close(), this.idleMs);
    this.idleTimer.unref();
  }
}
