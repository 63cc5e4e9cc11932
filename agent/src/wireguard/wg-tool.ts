import { type CommandRunner, runCommand } from '../datapath/netlink.js';
import { WireguardError } from './errors.js';

export interface WgToolOptions {
  /** Named network namespace (/run/netns/<name>); undefined = the process's own. */
  readonly netns?: string | undefined;
  /**
   * A directory that `wg` and wireguard-go see as /run (a private mount namespace per command),
   * so that several userspace devices of one name — one per network namespace, as in the tests
   * and the local cluster — each have their own UAPI socket (/run/wireguard/<dev>.sock is a
   * path, not per network namespace). Undefined = the real /run (the agent in its container).
   */
  readonly runDir?: string | undefined;
  readonly run?: CommandRunner;
}

/**
 * The only code that runs `wg` and wireguard-go: the argument vector for a namespace and a
 * private /run, and `wg` with its stderr turned into an EWGAPPLY error. Secrets go on stdin.
 */
export class WgTool {
  readonly netns: string | undefined;
  readonly runDir: string | undefined;
  private readonly run: CommandRunner;

  constructor(opts: WgToolOptions = {}) {
    this.netns = opts.netns;
    this.runDir = opts.runDir;
    this.run = opts.run ?? runCommand;
  }

  /** `[cmd, args]` that runs `cmd args` in this tool's namespace and /run. */
  command(cmd: string, args: readonly string[]): [string, string[]] {
    let argv = [cmd, ...args];
    if (this.runDir !== undefined) {
      argv = [
        'unshare',
        '--mount',
        '--propagation',
        'private',
        '--',
        'sh',
        '-c',
        'mount --bind "$0" /run && exec "$@"',
        this.runDir,
        ...argv,
      ];
    }
    if (this.netns !== undefined) argv = ['nsenter', `--net=/run/netns/${this.netns}`, ...argv];
    const [head = cmd, ...rest] = argv;
    return [head, rest];
  }

  /** Runs `wg args` (stdin: `input`), returns stdout; a failure is EWGAPPLY with wg's stderr. */
  async wg(args: readonly string[], input?: string): Promise<string> {
    // Node's stdin "pipe" is a socket, which wg cannot fopen() as /dev/stdin (ENXIO): `cat`
    // copies it into a real pipe. The secret stays in memory and pipes, never in a file.
    const [cmd, argv] =
      input === undefined
        ? this.command('wg', args)
        : this.command('sh', ['-c', 'cat | wg "$@"', 'wg', ...args]);
    const r = await this.run(cmd, argv, input);
    if (r.exitCode !== 0) {
      // The command line never holds a secret (keys go on stdin), so it can be named.
      const detail = r.stderr.trim() || `exit code ${r.exitCode}`;
      throw new WireguardError('EWGAPPLY', `wg ${args.join(' ')}: ${detail}`);
    }
    return r.stdout;
  }
}
