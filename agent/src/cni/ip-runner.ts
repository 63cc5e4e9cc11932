import { spawn } from 'node:child_process';
import { IpBatchSession } from './ip-batch-session.js';
import { classifyIpError, IpCommandError } from './ip-errors.js';

export { IpCommandError } from './ip-errors.js';

/**
 * Runs `ip` for the CNI server, in the node's network namespace ("host") or in a
 * pod's ("pod", entered by path with nsenter), and `sysctl` in a pod's. The only
 * place in the CNI code that executes commands.
 */
export interface IpRunner {
  /** `ip <args>` in the node's network namespace; stdin for `-batch -`. */
  host(args: readonly string[], stdin?: string): Promise<string>;
  /**
   * Mutating commands in the node's netns: through the resident `ip -batch` (no
   * process start) when it is free, else in a one-off `ip -batch` process, so a
   * burst of ADDs/DELs runs in parallel (deleting a device waits for an RCU grace
   * period, ~15 ms; one after another that is 1.5 s per 100 pods, together ~0.2 s).
   */
  hostBatch(lines: readonly string[]): Promise<void>;
  /** `ip <args>` inside the network namespace at `netnsPath`. */
  pod(netnsPath: string, args: readonly string[], stdin?: string): Promise<string>;
  /**
   * `sysctl -w <key>=<value>` inside the network namespace at `netnsPath` (key in
   * the slash form, "net/ipv6/conf/eth0/disable_ipv6", so dots in names stay).
   */
  podSysctl(netnsPath: string, key: string, value: string): Promise<void>;
  /** A path to the node's netns that `ip link ... netns <ref>` accepts from inside a pod's netns. */
  readonly hostNetnsRef: string;
  /** Stops the resident batch process. */
  close(): void;
}

export interface IpRunnerOptions {
  /**
   * A named netns (under /var/run/netns) to treat as the node's network namespace;
   * undefined = the agent's own (production).
   */
  readonly hostNetns?: string | undefined;
  readonly ipBinary?: string;
  readonly nsenterBinary?: string;
  readonly sysctlBinary?: string;
  readonly timeoutMs?: number;
}

function run(
  file: string,
  args: readonly string[],
  stdin: string | undefined,
  timeoutMs: number,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const stderr = Buffer.concat(err).toString('utf8').trim();
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else {
        const why = stderr || (signal ? `killed by ${signal}` : `exit code ${code}`);
        reject(new IpCommandError(classifyIpError(stderr), `${file} ${args.join(' ')}: ${why}`, stderr));
      }
    });
    child.stdin.on('error', () => {}); // the child may exit before reading everything
    child.stdin.end(stdin ?? '');
  });
}

export function createIpRunner(opts: IpRunnerOptions = {}): IpRunner {
  const ip = opts.ipBinary ?? 'ip';
  const nsenter = opts.nsenterBinary ?? 'nsenter';
  const sysctl = opts.sysctlBinary ?? 'sysctl';
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const hostPrefix = opts.hostNetns ? ['-n', opts.hostNetns] : [];
  const session = new IpBatchSession(hostPrefix, timeoutMs);
  return {
    hostNetnsRef: opts.hostNetns ? `/var/run/netns/${opts.hostNetns}` : `/proc/${process.pid}/ns/net`,
    host: (args, stdin) => run(ip, [...hostPrefix, ...args], stdin, timeoutMs),
    hostBatch: async (lines) => {
      if (!session.busy) return session.run(lines);
      await run(ip, [...hostPrefix, '-force', '-batch', '-'], `${lines.join('\n')}\n`, timeoutMs);
    },
    pod: (netnsPath, args, stdin) => {
      // Named netns (what containerd and CRI-O pass) are entered by ip itself: one exec fewer.
      const named = NAMED_NETNS.exec(netnsPath);
      return named
        ? run(ip, ['-n', named[1] as string, ...args], stdin, timeoutMs)
        : run(nsenter, [`--net=${netnsPath}`, ip, ...args], stdin, timeoutMs);
    },
    podSysctl: async (netnsPath, key, value) => {
      await run(nsenter, [`--net=${netnsPath}`, sysctl, '-q', '-w', `${key}=${value}`], undefined, timeoutMs);
    },
    close: () => session.close(),
  };
}

const NAMED_NETNS = /^\/(?:var\/)?run\/netns\/([^/]+)$/;
