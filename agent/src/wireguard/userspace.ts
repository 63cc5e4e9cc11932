import { type ChildProcess, spawn } from 'node:child_process';
import { WireguardError } from './errors.js';
import type { WgTool } from './wg-tool.js';

export interface UserspaceOptions {
  readonly binary: string;
  readonly device: string;
  readonly tool: WgTool;
  /** How long to wait for the device and its UAPI socket. */
  readonly startTimeoutMs?: number;
  /** Called once when the process ends on its own (not through stop()). */
  readonly onExit?: (code: number | null, signal: string | null, stderr: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * wireguard-go as a child of the agent, in the foreground (`-f`): its TUN device and UAPI
 * socket live as long as the process, so the process dying takes `weft.wg` with it. The
 * reconcile loop is the supervisor: the next observe sees no device and its plan starts a new
 * process (`device-add`). In the DaemonSet the agent's container holds both, so an agent restart
 * (container restart) ends it too; the key is on disk, so the new device has the same identity.
 */
export class UserspaceWireguard {
  private child: ChildProcess | undefined;
  private stderr = '';

  constructor(private readonly opts: UserspaceOptions) {}

  /** The running process's pid, if any. */
  get pid(): number | undefined {
    return this.child?.exitCode === null ? this.child.pid : undefined;
  }

  /** Starts wireguard-go (unless it runs) and waits until `wg show <dev>` answers through its socket. */
  async start(): Promise<void> {
    if (this.pid !== undefined) return;
    const { binary, device, tool } = this.opts;
    const [cmd, args] = tool.command(binary, ['-f', device]);
    this.stderr = '';
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LOG_LEVEL: 'error' },
    });
    this.child = child;
    child.stderr?.on('data', (c: Buffer) => {
      this.stderr = (this.stderr + c.toString('utf8')).slice(-4096);
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.once('exit', (code, signal) => {
      if (this.child === child) {
        this.child = undefined;
        this.opts.onExit?.(code, signal, this.stderr);
      }
    });
    child.once('error', () => undefined);
    const deadline = Date.now() + (this.opts.startTimeoutMs ?? 5000);
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        await exited;
        throw new WireguardError(
          'EUSERSPACE',
          `wireguard-go ${device} exited at start: ${this.stderr.trim()}`,
        );
      }
      try {
        await tool.wg(['show', device, 'dump']);
        return;
      } catch {
        if (Date.now() > deadline) {
          await this.stop();
          throw new WireguardError(
            'EUSERSPACE',
            `wireguard-go ${device} did not bring up its device: ${this.stderr.trim()}`,
          );
        }
        await sleep(50);
      }
    }
  }

  /** Ends the process (SIGTERM, then SIGKILL after 2 s); its device and socket go with it. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await done;
    clearTimeout(timer);
  }
}
