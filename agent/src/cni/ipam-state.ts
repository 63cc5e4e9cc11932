import { errorMessage } from '../../../common/errors.js';
import { formatIp, type IpAddress, type IpFamily, parseIp } from '../../../common/ip.js';
import type { Attachment } from './netconf.js';

/** One attachment's addresses (plain, canonical, without prefix length), one per family, IPv4 first. */
export interface Allocation extends Attachment {
  readonly ips: readonly string[];
}

/** IPAM's state for one network, as kept in memory. */
export interface IpamState {
  readonly allocations: Map<string, Allocation>;
  /** Last address handed out per range CIDR (the round-robin cursor). */
  readonly cursors: Map<string, IpAddress>;
}

/**
 * The file `<stateDir>/ipam/<network>.json`:
 * `{ "version": 1, "network": "weft", "cursors": {"10.244.1.0/24": "10.244.1.7"},
 *    "allocations": [{"containerId": "…", "ifname": "eth0", "ips": ["10.244.1.5"]}] }`
 * Dual-stack adds entries of the other family, nothing else: a cursor per IPv6
 * range ("fd00:10:244:1::/64": "fd00:10:244:1::7") and the IPv6 address after
 * the IPv4 one in `ips`. A file of an IPv4-only node is the same as before.
 */
interface IpamFileV1 {
  version: 1;
  network: string;
  cursors: Record<string, string>;
  allocations: Array<{ containerId: string; ifname: string; ips: string[] }>;
}

export class IpamStateError extends Error {}

export function attachmentKey(a: Attachment): string {
  return `${a.containerId}/${a.ifname}`;
}

export function emptyIpamState(): IpamState {
  return { allocations: new Map(), cursors: new Map() };
}

export function serializeIpamState(network: string, state: IpamState): string {
  const file: IpamFileV1 = {
    version: 1,
    network,
    cursors: Object.fromEntries([...state.cursors].map(([cidr, ip]) => [cidr, formatIp(ip)])),
    allocations: [...state.allocations.values()]
      .sort((a, b) => attachmentKey(a).localeCompare(attachmentKey(b)))
      .map((a) => ({ containerId: a.containerId, ifname: a.ifname, ips: [...a.ips] })),
  };
  return `${JSON.stringify(file, null, 1)}\n`;
}

/** Parses the file's content; throws IpamStateError naming the field at fault. */
export function parseIpamState(text: string): IpamState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new IpamStateError(`not JSON: ${(err as Error).message}`);
  }
  const f = raw as Partial<IpamFileV1> | null;
  if (f?.version !== 1) throw new IpamStateError('version: expected 1');
  if (typeof f.cursors !== 'object' || f.cursors === null)
    throw new IpamStateError('cursors: expected an object');
  if (!Array.isArray(f.allocations)) throw new IpamStateError('allocations: expected an array');
  const state = emptyIpamState();
  for (const [cidr, ip] of Object.entries(f.cursors))
    state.cursors.set(cidr, parseField(ip, `cursors.${cidr}`));
  f.allocations.forEach((a, i) => {
    if (typeof a?.containerId !== 'string' || typeof a.ifname !== 'string' || !Array.isArray(a.ips))
      throw new IpamStateError(`allocations[${i}]: needs containerId, ifname and ips`);
    const ips = a.ips.map((ip, j) => formatIp(parseField(ip, `allocations[${i}].ips[${j}]`)));
    state.allocations.set(attachmentKey(a), { containerId: a.containerId, ifname: a.ifname, ips });
  });
  return state;
}

function parseField(value: unknown, field: string): IpAddress {
  try {
    return parseIp(String(value));
  } catch (err) {
    throw new IpamStateError(`${field}: ${errorMessage(err)}`);
  }
}

/** Every address of `family` held by an allocation. */
export function computeUsedAddresses(state: IpamState, family: IpFamily): Set<bigint> {
  const used = new Set<bigint>();
  for (const a of state.allocations.values())
    for (const text of a.ips) {
      const ip = parseIp(text);
      if (ip.family === family) used.add(ip.value);
    }
  return used;
}
