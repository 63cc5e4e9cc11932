/**
 * The programs the tests, the demo and the benchmarks run on the host, read from
 * scripts/host-tools.txt (the list scripts/prereqs.sh installs from). `requireHostTools`
 * fails loudly for a tool that is not on that list — even where someone installed it by
 * hand — and for one that is listed but not installed.
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WeftError } from '../common/errors.js';

export class HostToolError extends WeftError {}

/** command → Debian package, from the text of host-tools.txt (pure). */
export function parseHostTools(text: string): Map<string, string> {
  const tools = new Map<string, string>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const fields = line.split(/\s+/);
    if (fields.length !== 2)
      throw new Error(`host-tools.txt line ${i + 1}: want "command package", got "${line}"`);
    const [cmd, pkg] = fields as [string, string];
    if (tools.has(cmd)) throw new Error(`host-tools.txt line ${i + 1}: ${cmd} is listed twice`);
    tools.set(cmd, pkg);
  });
  return tools;
}

export function hostToolsFile(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const f = join(dir, 'scripts', 'host-tools.txt');
    if (existsSync(f)) return f;
    dir = resolve(dir, '..');
  }
  throw new Error('cannot find scripts/host-tools.txt above this module');
}

let cached: Map<string, string> | undefined;
export function hostTools(): Map<string, string> {
  cached ??= parseHostTools(readFileSync(hostToolsFile(), 'utf8'));
  return cached;
}

function onPath(tool: string, pathEnv: string): boolean {
  return pathEnv.split(delimiter).some((dir) => {
    if (dir === '') return false;
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Throws naming the first tool that host-tools.txt lacks or that is not installed. */
export function requireHostTools(
  names: readonly string[],
  tools: Map<string, string> = hostTools(),
  pathEnv = process.env.PATH ?? '',
): void {
  for (const name of names) {
    const pkg = tools.get(name);
    if (pkg === undefined) {
      throw new HostToolError(
        'EUNLISTEDTOOL',
        `${name} is used but not listed in scripts/host-tools.txt; add it with its Debian package so scripts/prereqs.sh installs it`,
      );
    }
    if (!onPath(name, pathEnv)) {
      throw new HostToolError(
        'EMISSINGTOOL',
        `${name} is not installed (Debian package ${pkg}); run: sudo bash scripts/prereqs.sh`,
      );
    }
  }
}
