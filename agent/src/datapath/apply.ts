import { DatapathApplyError } from './errors.js';
import type { Netlink } from './netlink.js';
import { type BatchFailure, NetlinkError } from './netlink-errors.js';
import type { PlanOp } from './plan.js';
import type { IpRuleState, RouteState } from './state.js';

function routeArgs(r: RouteState, protocol: number, table: number | undefined): string {
  const parts = [r.dst];
  if (r.gateway !== '') parts.push('via', r.gateway);
  if (r.dev !== '') parts.push('dev', r.dev);
  if (r.onlink) parts.push('onlink');
  parts.push('proto', String(protocol));
  if (r.metric !== 0) parts.push('metric', String(r.metric));
  return `${parts.join(' ')} table ${table ?? 'main'}`;
}

function ruleArgs(r: IpRuleState, protocol: number): string {
  const iif = r.iif === '' ? '' : ` iif ${r.iif}`;
  return `pref ${r.priority}${iif} fwmark ${r.fwmark}/${r.fwmask} lookup ${r.table} proto ${protocol}`;
}

/** The `ip -batch` line for an op, or undefined when another tool runs it. */
export function ipBatchLine(op: PlanOp, protocol: number): string | undefined {
  switch (op.op) {
    case 'link-del':
      return `link del dev ${op.name}`;
    case 'bridge-add':
      return `link add name ${op.name} address ${op.mac} mtu ${op.mtu} type bridge`;
    case 'link-mac':
      return `link set dev ${op.name} address ${op.mac}`;
    case 'vxlan-add': {
      const v = op.vxlan;
      const learning = v.learning ? 'learning' : 'nolearning';
      return `link add name ${v.name} address ${v.mac} mtu ${v.mtu} type vxlan id ${v.vni} local ${v.local} dev ${v.dev} dstport ${v.port} ${learning}`;
    }
    case 'link-mtu':
      return `link set dev ${op.name} mtu ${op.mtu}`;
    case 'link-up':
      return `link set dev ${op.name} up`;
    case 'addr-add':
      // IPv6 without duplicate address detection: the address is derived and Weft's alone, and
      // until DAD ends (on a bridge without ports, never) it could not be used or answered.
      return `addr add ${op.cidr} dev ${op.dev}${op.cidr.includes(':') ? ' nodad' : ''}`;
    case 'addr-del':
      return `addr del ${op.cidr} dev ${op.dev}`;
    case 'route-add':
    case 'route-replace':
    case 'route-del':
      return `route ${op.op.slice('route-'.length)} ${routeArgs(op.route, protocol, op.table)}`;
    case 'rule-add':
    case 'rule-del':
      return `rule ${op.op === 'rule-add' ? 'add' : 'del'} ${ruleArgs(op.rule, protocol)}`;
    case 'neigh-replace':
      return `neigh replace ${op.neigh.ip} lladdr ${op.neigh.mac} dev ${op.neigh.dev} nud permanent`;
    case 'neigh-del':
      return `neigh del ${op.neigh.ip} dev ${op.neigh.dev}`;
    default:
      return undefined;
  }
}

/** The `bridge -batch` line for an FDB op. */
export function bridgeBatchLine(op: PlanOp): string | undefined {
  if (op.op === 'fdb-replace')
    return `fdb replace ${op.fdb.mac} dev ${op.fdb.dev} dst ${op.fdb.dst} self permanent`;
  if (op.op === 'fdb-del') return `fdb del ${op.fdb.mac} dev ${op.fdb.dev} dst ${op.fdb.dst} self`;
  return undefined;
}

/** A delete of something already gone is success: the kernel is where we wanted it. */
function isHarmless(f: BatchFailure): boolean {
  const deleting = / del /.test(` ${f.line} `);
  return deleting && ['ESRCH', 'ENOENT', 'ENODEV'].includes(f.error.code);
}

async function single(line: string, run: () => Promise<void>): Promise<BatchFailure[]> {
  try {
    await run();
    return [];
  } catch (err) {
    const error =
      err instanceof NetlinkError ? err : new NetlinkError('ENETLINK', line, String(err), { cause: err });
    return [{ index: 0, line, error }];
  }
}

/** An update that the kernel refuses (e.g. an interval clash) is retried as a full rewrite. */
async function runNft(
  netlink: Netlink,
  op: Extract<PlanOp, { op: 'nft-replace' | 'nft-update' }>,
): Promise<void> {
  try {
    await netlink.runNftScript(op.script);
  } catch (err) {
    if (op.op !== 'nft-update' || op.fallback === undefined) throw err;
    await netlink.runNftScript(op.fallback);
  }
}

/** Ops that create or delete a device, after which FDB entries must wait. */
const changesDevices = (op: PlanOp): boolean =>
  op.op === 'link-del' || op.op === 'bridge-add' || op.op === 'vxlan-add';

/**
 * Runs a plan: one `ip -batch` for devices, addresses, routes, rules and neighbours, one
 * `bridge -batch` for FDB entries (concurrently with the first when no device is
 * created or deleted), one `sysctl -w`, and the nft script as a single
 * transaction. Every stage runs even when an earlier one had failures, so one bad
 * entry does not hold back the rest; failures are thrown together at the end.
 * Returns the number of ops applied.
 */
export async function applyPlan(
  netlink: Netlink,
  plan: readonly PlanOp[],
  protocol: number,
): Promise<number> {
  if (plan.length === 0) return 0;
  const ipLines = plan.map((op) => ipBatchLine(op, protocol)).filter((l) => l !== undefined);
  const fdbLines = plan.map(bridgeBatchLine).filter((l) => l !== undefined);
  const sysctls = new Map<string, string>();
  for (const op of plan) if (op.op === 'sysctl') sysctls.set(op.key, op.value);
  const nft = plan.find((op) => op.op === 'nft-replace' || op.op === 'nft-update');

  const failures: BatchFailure[] = [];
  if (plan.some(changesDevices)) {
    failures.push(...(await netlink.runIpBatch(ipLines, true)));
    failures.push(...(await netlink.runBridgeBatch(fdbLines, true)));
  } else {
    // FDB entries need only their (existing) device: both batches may run at once.
    const [ip, fdb] = await Promise.all([netlink.runIpBatch(ipLines), netlink.runBridgeBatch(fdbLines)]);
    failures.push(...ip, ...fdb);
  }
  if (sysctls.size > 0) {
    failures.push(...(await single('sysctl -w', () => netlink.writeSysctls(sysctls))));
  }
  if (nft) failures.push(...(await single('nft -f', () => runNft(netlink, nft))));

  const real = failures.filter((f) => !isHarmless(f));
  if (real.length > 0) throw new DatapathApplyError(real);
  return plan.length;
}
