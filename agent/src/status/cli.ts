#!/usr/bin/env node
import { errorMessage } from '../../../common/errors.js';
import { parseCliFlags } from './cli-flags.js';
import { parsePolicyArgs, runPolicyCli } from './policy-cli.js';
import { renderStatus } from './render.js';
import type { StatusJson } from './status.js';

/**
 * `weft status [--json] [--addr http://127.0.0.1:9742]`: asks the local agent
 * for its status; `weft policy <namespace>/<pod>` asks it (and then the agent of
 * the pod's node) which policies isolate the pod and what they allow.
 * Exit codes: 0 ok, 1 agent unreachable or no answer, 2 usage.
 */
export interface CliArgs {
  readonly json: boolean;
  readonly addr: string;
}

export const USAGE =
  'usage: weft status [--json] [--addr http://127.0.0.1:9742]\n       weft policy <namespace>/<pod> [--json] [--addr …]';

export function parseCliArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): CliArgs {
  if (argv[0] !== 'status') throw new Error(USAGE);
  return parseCliFlags(argv.slice(1), env, USAGE);
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
  if (argv[0] === 'policy') {
    try {
      const p = parsePolicyArgs(argv, env);
      return await runPolicyCli(p, out, (s) => process.stderr.write(s));
    } catch (err: unknown) {
      process.stderr.write(`${errorMessage(err)}\n`);
      return 2;
    }
  }
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
