/**
 * When the kernel committed a ruleset change: run as a program inside a node's
 * namespace, it follows `nft monitor` and prints each line prefixed with the
 * wall-clock time it arrived, in milliseconds. Every committed transaction ends
 * with a `# new generation N by process P (nft)` line, which `nft monitor`
 * prints without consulting its cache (its rendering of set elements can go
 * stale: "Received event for an unknown set"), so commits are read from those.
 *
 *   node dist/bench/lib/nft-monitor.js        (inside the namespace; stops with its process group)
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** Date.now() of every commit ("new generation" line) a monitor logged so far. */
export function readCommits(logFile: string): number[] {
  let text = '';
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return [];
  }
  return parseCommits(text);
}

/** The times of the "new generation" lines of a monitor log (pure). */
export function parseCommits(text: string): number[] {
  const out: number[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d{13}) # new generation \d+ /.exec(line);
    if (m) out.push(Number(m[1]));
  }
  return out;
}

/** True once the monitor has written its start line. */
export const monitorStarted = (logFile: string): boolean => {
  try {
    return readFileSync(logFile, 'utf8').includes('# monitor started');
  } catch {
    return false;
  }
};

function main(): void {
  const nft = spawn('nft', ['monitor'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: nft.stdout });
  lines.on('line', (line) => process.stdout.write(`${Date.now()} ${line}\n`));
  nft.on('spawn', () => process.stdout.write(`${Date.now()} # monitor started\n`));
  const stop = () => nft.kill('SIGTERM');
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  nft.on('exit', (code) => process.exit(code ?? 0));
}

if (import.meta.url === `file://${process.argv[1]}`) main();
