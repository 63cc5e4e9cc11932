import { readFile } from 'node:fs/promises';
import { type IpFamily, ipFamilyOf } from '../../../common/ip.js';
import { formatIpPrefix } from '../../../common/ip-prefix.js';
import type { Backend, Encryption } from '../datapath/types.js';
import { parseClusterCidrList, parseConfigPrefix, parseNodeCidrMaskSizes } from './cluster-cidrs.js';
import { ConfigError } from './config-error.js';

/** The validated net-conf (the `net-conf.json` key of the weft-config ConfigMap). */
export interface NetConf {
  /**
   * One or two (IPv4, then IPv6), several IPv4 ones, or one IPv6 one (an IPv6-only cluster);
   * canonical text (RFC 5952 for IPv6).
   */
  readonly clusterCIDRs: readonly string[];
  readonly backend: Backend;
  readonly vxlanVNI: number;
  readonly vxlanPort: number;
  /** Which peers go through WireGuard: `backend: wireguard` = all, `encryption` with auto (ADR 16). */
  readonly encryption: Encryption;
  /** WireGuard's UDP port: `backend.port` with backend wireguard, `encryption.port` with auto. */
  readonly wireguardPort: number;
  /** Pod MTU override; undefined = derived from the underlay interface. */
  readonly mtu: number | undefined;
  readonly masquerade: boolean;
  /** Either family, canonical, in the order written. */
  readonly nonMasqueradeCIDRs: readonly string[];
  readonly resyncSeconds: number;
  /** Enforce NetworkPolicy in table inet weft (default true). */
  readonly networkPolicy: boolean;
}

const TOP_LEVEL_FIELDS = new Set([
  'clusterCIDRs',
  'network',
  'backend',
  'mtu',
  'masquerade',
  'nonMasqueradeCIDRs',
  'resyncSeconds',
  'networkPolicy',
  'encryption',
  // read by weft-controller (podCIDR sizes it assigns); validated here with the controller's
  // own rules (cluster-cidrs.ts) so that a typo or a size that does not fit fails in both
  'nodeCIDRMaskSize',
  'nodeCIDRMaskSizeIPv6',
]);
const BACKEND_FIELDS = new Set(['type', 'vni', 'port']);
const BACKENDS: readonly Backend[] = ['auto', 'hostgw', 'vxlan', 'wireguard'];
const ENCRYPTION_FIELDS = new Set(['type', 'peers', 'port']);
const ENCRYPTED_PEERS = ['all', 'crossSubnet'] as const;
/** WireGuard's registered port. */
export const DEFAULT_WIREGUARD_PORT = 51820;

/** The families of the cluster CIDRs: [4], [4, 6] (dual-stack) or [6] (IPv6-only). */
export function clusterFamilies(netConf: Pick<NetConf, 'clusterCIDRs'>): IpFamily[] {
  const families = new Set(netConf.clusterCIDRs.map((c) => ipFamilyOf(c)));
  return ([4, 6] as const).filter((f) => families.has(f));
}

/**
 * The cluster's primary family, the family of every node's underlay address (`underlayIP`):
 * 4 when the net-conf has an IPv4 cluster CIDR (IPv4-only and dual-stack, ADR 18), 6 when it
 * has only an IPv6 one (IPv6-only: every Node needs an IPv6 InternalIP).
 */
export function underlayFamily(netConf: Pick<NetConf, 'clusterCIDRs'>): IpFamily {
  return clusterFamilies(netConf).includes(4) ? 4 : 6;
}

/**
 * True when the net-conf has an IPv6 cluster CIDR (dual-stack or IPv6-only): Weft then
 * serves IPv6 (node IPv6 podCIDRs and InternalIPs); otherwise it ignores them.
 */
export function servesIpv6(netConf: Pick<NetConf, 'clusterCIDRs'>): boolean {
  return clusterFamilies(netConf).includes(6);
}

/** True when the net-conf has a cluster CIDR of each family. */
export function isDualStack(netConf: Pick<NetConf, 'clusterCIDRs'>): boolean {
  return clusterFamilies(netConf).length === 2;
}

/** Reads and parses the net-conf file; a missing or unreadable file is a ConfigError too. */
export async function loadNetConf(path: string): Promise<NetConf> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err: unknown) {
    throw new ConfigError('WEFT_NET_CONF', path, `cannot read net-conf: ${(err as Error).message}`);
  }
  return parseNetConf(text);
}

/** Parses net-conf JSON into a NetConf, or throws a ConfigError naming the first bad field. */
export function parseNetConf(text: string): NetConf {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err: unknown) {
    throw new ConfigError('net-conf', text.slice(0, 80), `not JSON: ${(err as Error).message}`);
  }
  if (!isRecord(raw)) throw new ConfigError('net-conf', raw, 'must be a JSON object');
  for (const key of Object.keys(raw)) {
    if (!TOP_LEVEL_FIELDS.has(key)) throw new ConfigError(key, raw[key], 'unknown field');
  }
  const clusterCIDRs = parseClusterCIDRs(raw);
  const families = clusterFamilies({ clusterCIDRs });
  const backend = parseBackend(raw.backend);
  const { wireguardPort: backendWgPort, ...backendFields } = backend;
  const encryption = parseEncryption(raw.encryption, backend.backend, backendWgPort);
  return {
    clusterCIDRs,
    ...backendFields,
    ...encryption,
    mtu: parseMtu(raw.mtu, families),
    masquerade: parseBoolean('masquerade', raw.masquerade, true),
    nonMasqueradeCIDRs: parseNonMasqueradeCIDRs(raw.nonMasqueradeCIDRs ?? [], families),
    resyncSeconds: parseResync(raw.resyncSeconds),
    networkPolicy: parseBoolean('networkPolicy', raw.networkPolicy, true),
  };
}

/**
 * The shared list rules (parseClusterCidrList, as weft-controller), then the agent's own:
 * the result in canonical text with IPv4 first whatever the order written (a Node's podCIDRs
 * and every list the datapath gets are IPv4 first too). A single IPv6 CIDR makes the cluster
 * IPv6-only (ADR 19). The mask sizes are checked against the list so that the agent refuses
 * what the controller refuses.
 */
function parseClusterCIDRs(raw: Record<string, unknown>): string[] {
  const { cidrs } = parseClusterCidrList(raw);
  parseNodeCidrMaskSizes(raw, cidrs);
  // Stable sort: IPv4 first, the order written within a family.
  return [...cidrs].sort((a, b) => a.family - b.family).map(formatIpPrefix);
}

/** IPv6 needs links of at least 1280 bytes (RFC 8200): a smaller pod MTU would disable it. */
const IPV6_MIN_MTU = 1280;

function parseMtu(value: unknown, families: readonly IpFamily[]): number | undefined {
  if (value === undefined) return undefined;
  const mtu = parseInteger('mtu', value, 576, 9216);
  if (families.includes(6) && mtu < IPV6_MIN_MTU) {
    throw new ConfigError(
      'mtu',
      value,
      `must be at least ${IPV6_MIN_MTU} with an IPv6 cluster CIDR (IPv6 needs links of 1280 bytes)`,
    );
  }
  return mtu;
}

/**
 * Either family; in an IPv6-only cluster an IPv4 entry is refused: no pod has an IPv4
 * address, so it could only be a mistake (and would leave IPv4 rules without a purpose).
 */
function parseNonMasqueradeCIDRs(value: unknown, families: readonly IpFamily[]): string[] {
  const cidrs = parseCidrList('nonMasqueradeCIDRs', value);
  if (families.includes(4)) return cidrs;
  const i = cidrs.findIndex((c) => ipFamilyOf(c) === 4);
  if (i >= 0) {
    throw new ConfigError(
      `nonMasqueradeCIDRs[${i}]`,
      cidrs[i],
      'an IPv4 CIDR in an IPv6-only cluster (clusterCIDRs has only an IPv6 CIDR): pods have no IPv4 address',
    );
  }
  return cidrs;
}

/** A list of CIDRs of either family, canonical, in the order written. */
function parseCidrList(field: string, value: unknown): string[] {
  if (!Array.isArray(value)) throw new ConfigError(field, value, 'must be a list of CIDRs');
  return value.map((item, i) => formatIpPrefix(parseConfigPrefix(`${field}[${i}]`, item)));
}

function parseBackend(value: unknown): Pick<NetConf, 'backend' | 'vxlanVNI' | 'vxlanPort' | 'wireguardPort'> {
  if (value === undefined)
    return { backend: 'auto', vxlanVNI: 1, vxlanPort: 8472, wireguardPort: DEFAULT_WIREGUARD_PORT };
  if (!isRecord(value)) throw new ConfigError('backend', value, 'must be an object {type, vni, port}');
  for (const key of Object.keys(value)) {
    if (!BACKEND_FIELDS.has(key)) throw new ConfigError(`backend.${key}`, value[key], 'unknown field');
  }
  const type = value.type ?? 'auto';
  if (typeof type !== 'string' || !BACKENDS.includes(type as Backend)) {
    throw new ConfigError('backend.type', type, `must be one of ${BACKENDS.join(', ')}`);
  }
  const port = value.port === undefined ? undefined : parseInteger('backend.port', value.port, 1, 65_535);
  if (type === 'wireguard') {
    if (value.vni !== undefined)
      throw new ConfigError('backend.vni', value.vni, 'only for backend vxlan or auto');
    return {
      backend: 'wireguard',
      vxlanVNI: 1,
      vxlanPort: 8472,
      wireguardPort: port ?? DEFAULT_WIREGUARD_PORT,
    };
  }
  return {
    backend: type as Backend,
    vxlanVNI: value.vni === undefined ? 1 : parseInteger('backend.vni', value.vni, 1, 16_777_215),
    vxlanPort: port ?? 8472,
    wireguardPort: DEFAULT_WIREGUARD_PORT,
  };
}

/**
 * `encryption: {type: "wireguard", peers: "all" | "crossSubnet", port}` — only with backend
 * auto, where it replaces VXLAN (and, with `all`, the direct routes too). Backend wireguard
 * means `all` already; hostgw and vxlan name one route kind, which encryption would contradict.
 */
function parseEncryption(
  value: unknown,
  backend: Backend,
  backendWgPort: number,
): Pick<NetConf, 'encryption' | 'wireguardPort'> {
  if (value === undefined)
    return { encryption: backend === 'wireguard' ? 'all' : 'none', wireguardPort: backendWgPort };
  if (!isRecord(value))
    throw new ConfigError('encryption', value, 'must be an object {type: "wireguard", peers, port}');
  for (const key of Object.keys(value)) {
    if (!ENCRYPTION_FIELDS.has(key)) throw new ConfigError(`encryption.${key}`, value[key], 'unknown field');
  }
  if (value.type !== 'wireguard') throw new ConfigError('encryption.type', value.type, 'must be wireguard');
  if (backend !== 'auto') {
    const why =
      backend === 'wireguard'
        ? 'backend wireguard already encrypts every peer: drop encryption, or use backend auto'
        : `needs backend auto (backend ${backend} fixes the route kind; backend wireguard encrypts every peer)`;
    throw new ConfigError('encryption', value, why);
  }
  const peers = value.peers ?? 'all';
  if (typeof peers !== 'string' || !(ENCRYPTED_PEERS as readonly string[]).includes(peers)) {
    throw new ConfigError('encryption.peers', peers, `must be one of ${ENCRYPTED_PEERS.join(', ')}`);
  }
  return {
    encryption: peers as Encryption,
    wireguardPort:
      value.port === undefined
        ? DEFAULT_WIREGUARD_PORT
        : parseInteger('encryption.port', value.port, 1, 65_535),
  };
}

function parseResync(value: unknown): number {
  if (value === undefined) return 30;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0.1 || value > 86_400) {
    throw new ConfigError('resyncSeconds', value, 'must be a number of seconds in [0.1, 86400]');
  }
  return value;
}

function parseInteger(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(field, value, `must be an integer in [${min}, ${max}]`);
  }
  return value;
}

function parseBoolean(field: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new ConfigError(field, value, 'must be true or false');
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
