import { execFile } from 'node:child_process';

/**
 * Throwaway network namespaces for integration tests. Every name must start with the
 * caller's prefix, so cleanup can never touch another suite's namespaces; nothing
 * here changes the machine's root namespace.
 */

/** Runs a program (optionally feeding stdin), returns stdout; the error names the command and its stderr. */
export function run(cmd: string, args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, [...args], (err, stdout, stderr) => {
      if (!err) resolve(stdout);
      else reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`, { cause: err }));
    });
    // A program that never reads stdin may exit first: ignore the broken pipe.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input);
  });
}

/** Runs a program inside a namespace (`ip netns exec`). */
export function nsRun(ns: string, cmd: string, args: readonly string[]): Promise<string> {
  return run('ip', ['netns', 'exec', ns, cmd, ...args]);
}

/** `ip -n ns -json …` parsed. */
export async function nsIpJson<T = Record<string, unknown>>(
  ns: string,
  args: readonly string[],
): Promise<T[]> {
  const out = (await run('ip', ['-n', ns, '-json', ...args])).trim();
  return out === '' ? [] : (JSON.parse(out) as T[]);
}

/** True when a single ping from `ns` to `ip` is answered within `timeoutS`. */
export async function canPing(ns: string, ip: string, timeoutS = 2): Promise<boolean> {
  try {
    await nsRun(ns, 'ping', ['-c', '1', '-W', String(timeoutS), ip]);
    return true;
  } catch {
    return false;
  }
}

/** Namespaces created under one prefix; `cleanup()` is idempotent and also removes leftovers of a crashed run. */
export class NetnsSet {
  private readonly created = new Set<string>();

  constructor(readonly prefix: string) {
    if (!/^[a-z][a-z0-9-]{1,12}$/.test(prefix)) throw new Error(`bad netns prefix ${JSON.stringify(prefix)}`);
  }

  /** Creates `<prefix>-<suffix>` with loopback up and returns its name. */
  async create(suffix: string): Promise<string> {
    const name = `${this.prefix}-${suffix}`;
    await deleteNetns(name);
    await run('ip', ['netns', 'add', name]);
    this.created.add(name);
    await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  /** Deletes every namespace created here and any other `<prefix>-*` left by an earlier run. */
  async cleanup(): Promise<void> {
    const leftovers = (await listNetns()).filter((n) => n.startsWith(`${this.prefix}-`));
    for (const name of new Set([...this.created, ...leftovers])) await deleteNetns(name);
    this.created.clear();
  }
}

export async function listNetns(): Promise<string[]> {
  const out = await run('ip', ['netns', 'list']);
  return out
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n !== '');
}

/** Deletes a namespace if it exists (its devices go with it). */
export async function deleteNetns(name: string): Promise<void> {
  if ((await listNetns()).includes(name)) await run('ip', ['netns', 'del', name]);
}

/** A veth pair with one end in each namespace; both ends up. */
export async function addVethPair(nsA: string, ifA: string, nsB: string, ifB: string): Promise<void> {
  await run('ip', ['-n', nsA, 'link', 'add', ifA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB]);
  await run('ip', ['-n', nsA, 'link', 'set', ifA, 'up']);
  await run('ip', ['-n', nsB, 'link', 'set', ifB, 'up']);
}

/** Runs `ip -batch -` inside `ns` (topology set-up in one exec). */
export async function nsIpBatch(ns: string, lines: readonly string[]): Promise<void> {
  await run('ip', ['-n', ns, '-batch', '-'], `${lines.join('\n')}\n`);
}
