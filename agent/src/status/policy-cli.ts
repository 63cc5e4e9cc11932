import type { PolicyReport } from '../policy/report.js';
import { parseCliFlags } from './cli-flags.js';
import { renderPolicyReport } from './policy-render.js';

export const POLICY_USAGE = 'usage: weft policy <namespace>/<pod> [--json] [--addr http://127.0.0.1:9742]';

export interface PolicyCliArgs {
  readonly namespace: string;
  readonly pod: string;
  readonly json: boolean;
  readonly addr: string;
}

/** `weft policy ns/pod [--json] [--addr A]`; throws the usage on anything else. */
export function parsePolicyArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): PolicyCliArgs {
  const [verb, target, ...rest] = argv;
  const m = /^([a-z0-9-]+)\/([a-z0-9.-]+)$/.exec(target ?? '');
  if (verb !== 'policy' || !m) throw new Error(POLICY_USAGE);
  return { namespace: m[1] as string, pod: m[2] as string, ...parseCliFlags(rest, env, POLICY_USAGE) };
}

async function ask(addr: string, a: PolicyCliArgs): Promise<PolicyReport> {
  const q = new URLSearchParams({ namespace: a.namespace, pod: a.pod });
  let res: Response;
  try {
    res = await fetch(`${addr}/api/v1/policy?${q}`, { signal: AbortSignal.timeout(5000) });
  } catch (err: unknown) {
    throw new Error(`cannot reach the agent at ${addr}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const body = (await res.json().catch(() => undefined)) as PolicyReport | undefined;
  if (!body || typeof body.state !== 'string') throw new Error(`the agent at ${addr} answered ${res.status}`);
  return body;
}

/** Asks the given agent, then — when the pod runs elsewhere — the agent of the pod's node. 0 answered, 1 not. */
export async function runPolicyCli(a: PolicyCliArgs, out: (s: string) => void, err: (s: string) => void) {
  try {
    let addr = a.addr;
    let report = await ask(addr, a);
    if (report.state === 'elsewhere' && report.addr) {
      addr = report.addr;
      report = await ask(addr, a);
    }
    if (report.state !== 'ok') {
      err(`weft: ${renderPolicyReport(report, addr)}`);
      return 1;
    }
    out(a.json ? `${JSON.stringify(report, null, 2)}\n` : renderPolicyReport(report, addr));
    return 0;
  } catch (e: unknown) {
    err(`weft: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
