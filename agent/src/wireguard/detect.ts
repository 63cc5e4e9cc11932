import { access, constants } from 'node:fs/promises';
import { type CommandRunner, runCommand } from '../datapath/netlink.js';

/** Which WireGuard provides `weft.wg`: for the log, `weft status` and a metric. */
export type WgImplementation =
  | { readonly kind: 'kernel' }
  | { readonly kind: 'userspace'; readonly binary: string; readonly version: string }
  | { readonly kind: 'none'; readonly reason: string };

export interface DetectOptions {
  /** wireguard-go's path; undefined = userspace is not an option. */
  readonly wireguardGo?: string | undefined;
  /** Skip the kernel probe (tests that want the userspace device on any kernel). */
  readonly preferUserspace?: boolean;
  readonly tunDevice?: string;
  readonly run?: CommandRunner;
}

/** The scratch device of the kernel probe, made in a namespace of its own that ends with the command. */
const PROBE = ['--net', 'ip', 'link', 'add', 'weft.wgprobe', 'type', 'wireguard'];

/** One line from a multi-line answer, for a reason text. */
const firstLine = (s: string) => s.trim().split('\n')[0] ?? '';

/**
 * Kernel module when `ip link add … type wireguard` succeeds in a scratch network namespace
 * (`unshare --net`: nothing to clean up, the namespace ends with the command; the attempt also
 * loads the module where it is available), else userspace when wireguard-go runs and
 * /dev/net/tun exists, else none with the reasons. `wg` (wireguard-tools) is needed by both.
 */
export async function detectWireguard(opts: DetectOptions = {}): Promise<WgImplementation> {
  const run = opts.run ?? runCommand;
  const tryRun = async (cmd: string, args: string[]) => {
    try {
      return await run(cmd, args);
    } catch (err: unknown) {
      return { exitCode: -1, stdout: '', stderr: err instanceof Error ? err.message : String(err) };
    }
  };
  const wg = await tryRun('wg', ['--version']);
  if (wg.exitCode !== 0)
    return { kind: 'none', reason: `wg (wireguard-tools) does not run: ${firstLine(wg.stderr)}` };
  const reasons: string[] = [];
  if (opts.preferUserspace !== true) {
    const probe = await tryRun('unshare', PROBE);
    if (probe.exitCode === 0) return { kind: 'kernel' };
    reasons.push(`no kernel module (${firstLine(probe.stderr)})`);
  }
  const binary = opts.wireguardGo;
  if (binary === undefined) {
    reasons.push('no wireguard-go configured');
    return { kind: 'none', reason: reasons.join('; ') };
  }
  const tun = opts.tunDevice ?? '/dev/net/tun';
  try {
    await access(tun, constants.R_OK | constants.W_OK);
  } catch {
    reasons.push(`wireguard-go needs ${tun}, which is missing`);
    return { kind: 'none', reason: reasons.join('; ') };
  }
  const v = await tryRun(binary, ['--version']);
  const version = /wireguard-go (v\S+)/.exec(v.stdout)?.[1];
  if (v.exitCode !== 0 || version === undefined) {
    reasons.push(`${binary} does not run: ${firstLine(v.stderr) || firstLine(v.stdout)}`);
    return { kind: 'none', reason: reasons.join('; ') };
  }
  return { kind: 'userspace', binary, version };
}
