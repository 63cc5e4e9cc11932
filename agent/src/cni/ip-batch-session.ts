import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { classifyIpError, IpCommandError } from './ip-errors.js';

const SENTINEL_CMD = 'link show dev lo';
const SENTINEL_OUT = /^\d+: lo: /;

interface Job {
  readonly lines: readonly string[];
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  readonly output: string[];
  timer?: NodeJS.Timeout;
}

/**
 * A resident `ip -o -force -batch -` for the node's netns, so that the host side
 * of ADD and DEL costs no process start. Each job's lines are followed by a
 * sentinel (`link show dev lo`); ip answers in order on one pipe (stderr merged
 * into stdout), so the text before the sentinel's line is the job's errors.
 * Jobs run one at a time; a dead or stuck process is replaced on the next job.
 */
export class IpBatchSession {
  private child: ChildProcess | undefined;
  private readonly queue: Job[] = [];
  private current: Job | undefined;

  constructor(
    private readonly ipArgs: readonly string[],
    private readonly timeoutMs = 10_000,
  ) {}

  /** Runs mutating commands (no output expected); rejects with the errors ip printed. */
  run(lines: readonly string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ lines, resolve, reject, output: [] });
      this.pump();
    });
  }

  /** True while a job runs or waits: a caller with a burst may use a one-off process instead. */
  get busy(): boolean {
    return this.current !== undefined || this.queue.length > 0;
  }

  close(): void {
    this.child?.kill();
    this.child = undefined;
  }

  private ensureChild(): ChildProcess {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) return this.child;
    const child = spawn('sh', ['-c', 'exec "$@" -o -force -batch - 2>&1', 'sh', 'ip', ...this.ipArgs], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    child.stdin?.on('error', () => {});
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) =>
      this.onLine(child, line),
    );
    child.on('exit', () => this.onExit(child));
    child.on('error', () => this.onExit(child));
    this.child = child;
    return child;
  }

  private pump(): void {
    if (this.current || this.queue.length === 0) return;
    const job = this.queue.shift() as Job;
    this.current = job;
    const child = this.ensureChild();
    job.timer = setTimeout(() => {
      child.kill('SIGKILL');
      this.finish(new IpCommandError('EIP', `ip batch timed out after ${this.timeoutMs} ms`, ''));
    }, this.timeoutMs);
    child.stdin?.write(`${[...job.lines, SENTINEL_CMD].join('\n')}\n`);
  }

  private onLine(child: ChildProcess, line: string): void {
    if (child !== this.child || !this.current) return;
    if (!SENTINEL_OUT.test(line)) {
      this.current.output.push(line);
      return;
    }
    const errors = this.current.output.filter((l) => !l.startsWith('Command failed')).join('\n');
    const failed = this.current.output.some((l) => l.startsWith('Command failed'));
    this.finish(
      failed
        ? new IpCommandError(
            classifyIpError(errors),
            `ip ${this.current.lines.join('; ')}: ${errors}`,
            errors,
          )
        : undefined,
    );
  }

  private onExit(child: ChildProcess): void {
    if (child !== this.child) return;
    this.child = undefined;
    if (this.current)
      this.finish(new IpCommandError('EIP', 'ip batch process exited', this.current.output.join('\n')));
  }

  private finish(err: Error | undefined): void {
    const job = this.current;
    if (!job) return;
    this.current = undefined;
    clearTimeout(job.timer);
    if (err) job.reject(err);
    else job.resolve();
    this.pump();
  }
}
