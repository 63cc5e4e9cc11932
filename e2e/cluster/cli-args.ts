import { parseArgs } from 'node:util';
import { ClusterError, type ClusterSpec, type IpFamilyMode, parseClusterSpec } from './spec.js';

export type CliCommand =
  | { cmd: 'up'; spec: Partial<ClusterSpec> }
  | { cmd: 'down'; name: string; runRoot?: string; keepLogs: boolean }
  | { cmd: 'status'; name: string; runRoot?: string };

export const USAGE = `usage: cluster up [--name e2e] [--nodes 3] [--subnets 2] [--no-allocate-node-cidrs] [--kubelet] [--ip-family ipv4|dual|ipv6] [--admin-port 0] [--run-root /tmp/weft-e2e]
       cluster down [--name e2e] [--keep-logs] [--run-root …]
       cluster status [--name e2e] [--run-root …]`;

/** Parses the CLI's argv (after the script) into a command; throws ClusterError naming the bad flag. */
export function parseCliArgs(argv: string[]): CliCommand {
  const [cmd, ...rest] = argv;
  let parsed: ReturnType<
    typeof parseArgs<{ options: typeof OPTIONS; strict: true; allowPositionals: false }>
  >;
  try {
    parsed = parseArgs({ args: rest, options: OPTIONS, strict: true, allowPositionals: false });
  } catch (err) {
    throw new ClusterError('EUSAGE', `${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  }
  const v = parsed.values;
  const name = v.name ?? 'e2e';
  const runRoot = v['run-root'];
  const where = runRoot === undefined ? {} : { runRoot };
  switch (cmd) {
    case 'up': {
      const spec: Partial<ClusterSpec> = {
        name,
        allocateNodeCidrs: !v['no-allocate-node-cidrs'],
        kubelet: v.kubelet === true,
        ...where,
      };
      if (v['ip-family'] !== undefined) spec.ipFamily = v['ip-family'] as IpFamilyMode;
      if (v.nodes !== undefined) spec.nodes = toInt('--nodes', v.nodes);
      if (v.subnets !== undefined) spec.subnets = toInt('--subnets', v.subnets) as 1 | 2;
      if (v['admin-port'] !== undefined) spec.adminPort = toInt('--admin-port', v['admin-port']);
      parseClusterSpec(spec); // validate now, with the flag names in the message
      return { cmd, spec };
    }
    case 'down':
      parseClusterSpec({ name, ...where });
      return { cmd, name, keepLogs: v['keep-logs'] === true, ...where };
    case 'status':
      parseClusterSpec({ name, ...where });
      return { cmd, name, ...where };
    default:
      throw new ClusterError('EUSAGE', `unknown command ${JSON.stringify(cmd ?? '')}\n${USAGE}`);
  }
}

const OPTIONS = {
  name: { type: 'string' },
  nodes: { type: 'string' },
  subnets: { type: 'string' },
  'no-allocate-node-cidrs': { type: 'boolean' },
  kubelet: { type: 'boolean' },
  'ip-family': { type: 'string' },
  'admin-port': { type: 'string' },
  'run-root': { type: 'string' },
  'keep-logs': { type: 'boolean' },
} as const;

function toInt(flag: string, text: string): number {
  if (!/^\d+$/.test(text))
    throw new ClusterError('EUSAGE', `${flag} must be a non-negative integer, got ${JSON.stringify(text)}`);
  return Number(text);
}
