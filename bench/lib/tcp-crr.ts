/**
 * New-connection latency with bench/lib/tcp-crr.c: built once per source
 * version with the host's gcc into the temp dir, run inside namespaces as the
 * echo server (`serve`) and the timed client (`run`).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../agent/test/ns/netns-helpers.js';
import { pinTo } from './traffic.js';

/** The C source, from dist/bench/lib (compiled JS) or bench/lib. */
function sourcePath(): string {
  for (const rel of ['../../../bench/lib/tcp-crr.c', './tcp-crr.c']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error('tcp-crr.c not found next to this module or in bench/lib');
}

/** Compiles tcp-crr (unless this source's binary exists) and returns its path. */
export async function buildTcpCrr(): Promise<string> {
  const src = sourcePath();
  const hash = createHash('sha256').update(readFileSync(src)).digest('hex').slice(0, 12);
  const bin = join(tmpdir(), `weft-tcp-crr-${hash}`);
  if (!existsSync(bin)) {
    const part = `${bin}.${process.pid}`;
    await run('gcc', ['-O2', '-Wall', '-o', part, src]);
    renameSync(part, bin);
  }
  return bin;
}

/** Parses `tcp-crr run` output: latencies in µs, every one a positive number. */
export function parseTcpCrr(text: string): number[] {
  const v = JSON.parse(text) as unknown;
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number' && x > 0))
    throw new Error(`tcp-crr: want a non-empty array of positive numbers, got ${text.slice(0, 80)}`);
  return v as number[];
}

/** `count` timed connections (after 10 untimed) from `ns` to ip:port, pinned to `cpu` when given. */
export async function runTcpCrr(
  bin: string,
  ns: string,
  ip: string,
  port: number,
  count: number,
  cpu?: number,
): Promise<number[]> {
  const args = [...pinTo(cpu), 'timeout', String(30 + Math.ceil(count / 50)), bin, 'run', ip, String(port)];
  const out = await run('ip', ['netns', 'exec', ns, ...args, String(count), '10']);
  return parseTcpCrr(out);
}
