#!/usr/bin/env node
import { errorMessage } from '../../../common/errors.js';
import { renderStatus } from './render.js';
import type { StatusJson } from './status.js';

/**
 * `weft status [--json] [--addr http://127.0.0.1:9742]`: asks the local agent
 * for its status. Exit codes: 0 ok, 1 agent unreachable or bad answer, 2 usage.
 */
export interface CliArgs {
  readonly json: boolean;
  readonly addr: string;
}

export const USAGE = 'usage: weft status [--json] [--addr http://127.0.0.1:9742]';

export function parseCliArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): CliArgs {
  const args = [...argv];
  if (args[0] !== 'status') throw new Error(USAGE);
  let json = false;
  let addr = env.WEFT_STATUS_ADDR ?? 'http://127.0.0.1:9742';
  for (let i = 1; i < args.length; i++) {
    const a = args[i];
    if (a === '--json') json = true;
    else if (a === '--addr' && args[i + 1]) addr = args[++i] as string;
    else if (a?.startsWith('--addr=')) addr = a.slice('--addr='.length);
    else throw new Error(USAGE);
  }
  if (!/^https?:\/\//.test(addr)) addr = `http://${addr}`;
  return { json, addr: addr.replace(/\/+$/, '') };
}

export async function fetchStatus(addr: string, timeoutMs = 5000): Promise<StatusJson> {
  const res = await fetch(`${addr}/api/v1/status`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`agent answered ${res.status} ${res.statusText}`);
  return (await res.json()) as StatusJson;
}

export async function runCli(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  out: (s: string) => void,
): Promise<number> {
  let args: CliArgs;
  try {
    args = parseCliArgs(argv, env);
  } catch (err: unknown) {
    process.stderr.write(`${errorMessage(err)}\n`);
    return 2;
  }
  try {
    const status = await fetchStatus(args.addr);
    out(args.json ? `${JSON.stringify(status, null, 2)}\n` : renderStatus(status));
    return 0;
  } catch (err: unknown) {
    process.stderr.write(`weft: cannot get status from ${args.addr}: ${errorMessage(err)}\n`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await runCli(process.argv.slice(2), process.env, (s) => process.stdout.write(s));
}
