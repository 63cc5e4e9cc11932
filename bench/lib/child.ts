import { spawn } from 'node:child_process';

/** Outcome of one benchmark program run as a child process. */
export interface ChildResult {
  readonly ok: boolean;
  readonly durationS: number;
  /** The JSON the program printed: one object, or an array when it printed one object per line. */
  readonly result?: unknown;
  readonly error?: string;
}

/**
 * Parses a benchmark's stdout: a single (possibly pretty-printed) JSON document,
 * else one JSON object per line (an array of them).
 */
export function parseBenchOutput(stdout: string): unknown {
  const text = stdout.trim();
  if (text === '') throw new Error('benchmark printed nothing on stdout');
  try {
    return JSON.parse(text);
  } catch {
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    try {
      return lines.map((l) => JSON.parse(l) as unknown);
    } catch (err) {
      throw new Error(`benchmark stdout is neither JSON nor JSON lines: ${(err as Error).message}`);
    }
  }
}

/**
 * Runs `node <script> args` and parses its JSON. Stderr is forwarded with a
 * prefix; a timeout kills the child's process group (SIGTERM, then SIGKILL), so
 * its own cleanup (finally blocks, signal handlers) gets a chance first.
 */
export function runBenchChild(
  label: string,
  nodeBin: string,
  script: string,
  args: readonly string[],
  opts: { timeoutMs: number; env?: Record<string, string>; signal?: AbortSignal },
): Promise<ChildResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(nodeBin, [script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env },
      detached: true,
    });
    let stdout = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    let pending = '';
    const tail: string[] = [];
    child.stderr.on('data', (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const l of lines) process.stderr.write(`[${label}] ${l}\n`);
      tail.push(...lines);
      tail.splice(0, Math.max(0, tail.length - 15));
    });
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        /* already gone */
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), 15_000).unref();
    }, opts.timeoutMs);
    const onAbort = () => killGroup('SIGTERM');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      const durationS = Math.round((Date.now() - started) / 100) / 10;
      if (timedOut) {
        resolve({ ok: false, durationS, error: `timed out after ${opts.timeoutMs / 1000} s` });
        return;
      }
      if (code !== 0) {
        resolve({
          ok: false,
          durationS,
          error: `exited with ${code ?? signal}: ${[...tail, pending].join('\n').trim().slice(-1500)}`,
        });
        return;
      }
      try {
        resolve({ ok: true, durationS, result: parseBenchOutput(stdout) });
      } catch (err) {
        resolve({ ok: false, durationS, error: (err as Error).message });
      }
    });
  });
}
