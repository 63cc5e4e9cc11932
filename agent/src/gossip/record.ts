import { randomBytes } from 'node:crypto';
import { isIpv4, parseCidr } from '../../../common/cidr.js';
import { errorMessage, WeftError } from '../../../common/errors.js';
import { formatIp, parseIpOrReason } from '../../../common/ip.js';
import { formatIpPrefix, parseIpPrefix } from '../../../common/ip-prefix.js';
import { isWireguardKey } from '../wireguard/keys.js';

/**
 * The record one agent publishes about itself. Only its owner writes it; every
 * other agent stores and forwards it unchanged. Records are ordered by
 * (incarnation, version): see compareRecordKeys in state.ts.
 */
export interface NodeRecord {
  readonly name: string;
  /**
   * Boot identity, new per process start: 9 base36 digits of the boot time in
   * ms, a dash, 8 random hex digits. Compared as a string, so a later boot
   * sorts after an earlier one; the random part breaks ties.
   */
  readonly incarnation: string;
  /** Bumped on every change of this record, heartbeats included. */
  readonly version: number;
  /** The `version` at which a field other than `version` last changed. */
  readonly contentVersion: number;
  /** IPv4 (dual-stack and IPv4-only clusters), or IPv6 (RFC 5952) on an IPv6-only node. */
  readonly underlayIP: string;
  /**
   * The node's IPv6 InternalIP (RFC 5952), only when the node has one and the cluster serves
   * IPv6; on an IPv6-only node the same address as underlayIP. Agents before dual-stack drop the field on decode (unknown fields are not
   * kept), so its presence never breaks them.
   */
  readonly underlayIP6?: string;
  readonly gossipPort: number;
  /**
   * IPv4 first, then the IPv6 one of a dual-stack node. Agents before dual-stack refuse a
   * record with an IPv6 podCIDR (and the whole frame with it): a node publishes one only
   * once the net-conf has an IPv6 cluster CIDR, which those agents refuse to start with.
   */
  readonly podCIDRs: readonly string[];
  readonly backend: RecordBackend;
  readonly mtu: number;
  readonly ready: boolean;
  readonly agentVersion: string;
  /**
   * The node's WireGuard public key (ADR 16), when it encrypts; absent otherwise. Peers take the
   * endpoint and allowed IPs from the API, never from here.
   */
  readonly wgPublicKey?: string;
  /** The owner's view of its peers: RTT in ms (coarse, see quantizeRtt), null = unreachable. */
  readonly reachability: Readonly<Record<string, number | null>>;
  /** Set when the node left gracefully; the record is a tombstone until `until` (epoch ms). */
  readonly leaving?: { readonly until: number };
}

export type RecordBackend = 'auto' | 'hostgw' | 'vxlan' | 'wireguard';

/** The fields an owner controls directly (everything but identity and counters). */
export type OwnFields = Omit<NodeRecord, 'name' | 'incarnation' | 'version' | 'contentVersion' | 'leaving'>;

export class RecordError extends WeftError {
  readonly field: string;
  constructor(field: string, message: string) {
    super('EGOSSIPRECORD', `gossip record field ${field}: ${message}`);
    this.field = field;
  }
}

export const LIMITS = {
  nameLength: 253,
  podCIDRs: 8,
  agentVersionLength: 64,
  reachabilityEntries: 4096,
  maxRttMs: 600_000,
} as const;

const NAME_RE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const INCARNATION_RE = /^[0-9a-z]{9}-[0-9a-f]{8}$/;
const BACKENDS: readonly string[] = ['auto', 'hostgw', 'vxlan', 'wireguard'];

/** A new incarnation for a process starting at `nowMs`, later than `atLeastAfter` if given. */
export function newIncarnation(nowMs: number, atLeastAfter?: string, random = randomBytes(4)): string {
  let boot = Math.max(0, Math.floor(nowMs));
  if (atLeastAfter !== undefined) boot = Math.max(boot, incarnationBootMs(atLeastAfter) + 1);
  return `${boot.toString(36).padStart(9, '0')}-${random.toString('hex').padEnd(8, '0').slice(0, 8)}`;
}

export function incarnationBootMs(incarnation: string): number {
  return Number.parseInt(incarnation.slice(0, 9), 36);
}

/** Short tag of an incarnation, used in digests (collisions only cost an extra exchange). */
export function incarnationTag(incarnation: string): string {
  return incarnation.slice(-6);
}

export function isNodeName(value: unknown): value is string {
  return typeof value === 'string' && value.length <= LIMITS.nameLength && NAME_RE.test(value);
}

function fail(field: string, message: string): never {
  throw new RecordError(field, message);
}

function need<T>(ok: boolean, field: string, message: string, value: unknown): T {
  if (!ok) fail(field, message);
  return value as T;
}

function parseCounter(value: unknown, field: string): number {
  return need(Number.isSafeInteger(value) && (value as number) >= 0, field, 'not a counter', value);
}

function parseReachability(value: unknown): Record<string, number | null> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail('reachability', 'not an object');
  }
  const entries = Object.entries(value);
  if (entries.length > LIMITS.reachabilityEntries) fail('reachability', 'too many entries');
  const out: Record<string, number | null> = {};
  for (const [peer, rtt] of entries) {
    if (!isNodeName(peer)) fail('reachability', `bad peer name ${JSON.stringify(String(peer).slice(0, 64))}`);
    const ok = rtt === null || (typeof rtt === 'number' && rtt >= 0 && rtt <= LIMITS.maxRttMs);
    if (!ok) fail(`reachability.${peer}`, 'not an RTT in ms or null');
    out[peer] = rtt;
  }
  return out;
}

/** Longest text of an IPv4 CIDR ("255.255.255.255/32") and of an IPv6 one (39 + "/128"). */
const MAX_CIDR4_TEXT = 18;
const MAX_CIDR6_TEXT = 43;
/** Longest text of an IPv6 address (eight groups of four hex digits). */
const MAX_IP6_TEXT = 39;

/** IPv4 podCIDRs are kept as written (as before dual-stack), IPv6 ones in RFC 5952 text. */
function parsePodCIDRs(value: unknown): string[] {
  if (!Array.isArray(value) || value.length > LIMITS.podCIDRs) fail('podCIDRs', 'not a short list');
  return value.map((c: unknown, i) => {
    const v6 = typeof c === 'string' && c.includes(':');
    if (typeof c !== 'string' || c.length > (v6 ? MAX_CIDR6_TEXT : MAX_CIDR4_TEXT)) {
      fail(`podCIDRs[${i}]`, 'not a CIDR');
    }
    try {
      if (!v6) {
        parseCidr(c);
        return c;
      }
      return formatIpPrefix(parseIpPrefix(c));
    } catch (err: unknown) {
      throw new RecordError(`podCIDRs[${i}]`, errorMessage(err));
    }
  });
}

function parseUnderlayIP6(value: unknown, field = 'underlayIP6'): string {
  const ip = typeof value === 'string' && value.length <= MAX_IP6_TEXT ? parseIpOrReason(value) : undefined;
  if (ip === undefined || typeof ip === 'string' || ip.family !== 6) fail(field, 'not an IPv6 address');
  return formatIp(ip);
}

/**
 * IPv4 as written (as before IPv6-only), or IPv6 in RFC 5952 text: the record of an IPv6-only
 * node (ADR 19). Agents before IPv6-only refuse such a record (and the whole frame with it):
 * upgrade every agent before turning a cluster IPv6-only.
 */
function parseUnderlayIP(value: unknown): string {
  if (typeof value === 'string' && value.includes(':')) return parseUnderlayIP6(value, 'underlayIP');
  return need<string>(
    typeof value === 'string' && value.length <= 15 && isIpv4(value),
    'underlayIP',
    'not an IPv4 or IPv6 address',
    value,
  );
}

/** Validates an untrusted value as a NodeRecord; throws RecordError naming the field at fault. */
export function parseRecord(value: unknown): NodeRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('record', 'not an object');
  const v = value as Record<string, unknown>;
  const name = need<string>(isNodeName(v.name), 'name', 'not a node name', v.name);
  const incarnation = need<string>(
    typeof v.incarnation === 'string' && INCARNATION_RE.test(v.incarnation),
    'incarnation',
    'not an incarnation',
    v.incarnation,
  );
  const version = parseCounter(v.version, 'version');
  const contentVersion = parseCounter(v.contentVersion, 'contentVersion');
  if (contentVersion > version) fail('contentVersion', 'greater than version');
  const underlayIP = parseUnderlayIP(v.underlayIP);
  const underlayIP6 = v.underlayIP6 === undefined ? undefined : parseUnderlayIP6(v.underlayIP6);
  if (underlayIP.includes(':') && underlayIP6 !== undefined && underlayIP6 !== underlayIP)
    fail('underlayIP6', 'differs from the IPv6 underlayIP (an IPv6-only node has one underlay address)');
  const gossipPort = need<number>(
    Number.isInteger(v.gossipPort) && (v.gossipPort as number) >= 1 && (v.gossipPort as number) <= 65535,
    'gossipPort',
    'not a port',
    v.gossipPort,
  );
  const backend = need<RecordBackend>(
    typeof v.backend === 'string' && BACKENDS.includes(v.backend),
    'backend',
    'not auto|hostgw|vxlan|wireguard',
    v.backend,
  );
  const mtu = need<number>(
    Number.isInteger(v.mtu) && (v.mtu as number) >= 68 && (v.mtu as number) <= 65535,
    'mtu',
    'not an MTU',
    v.mtu,
  );
  const ready = need<boolean>(typeof v.ready === 'boolean', 'ready', 'not a boolean', v.ready);
  const agentVersion = need<string>(
    typeof v.agentVersion === 'string' && v.agentVersion.length <= LIMITS.agentVersionLength,
    'agentVersion',
    'not a short string',
    v.agentVersion,
  );
  const record: NodeRecord = {
    name,
    incarnation,
    version,
    contentVersion,
    underlayIP,
    // An IPv6-only node's underlayIP6 is its underlayIP, whether the record repeats it or not.
    ...(underlayIP.includes(':')
      ? { underlayIP6: underlayIP }
      : underlayIP6 === undefined
        ? {}
        : { underlayIP6 }),
    gossipPort,
    podCIDRs: parsePodCIDRs(v.podCIDRs),
    backend,
    mtu,
    ready,
    agentVersion,
    reachability: parseReachability(v.reachability),
    ...(v.wgPublicKey === undefined
      ? {}
      : {
          wgPublicKey: need<string>(
            isWireguardKey(typeof v.wgPublicKey === 'string' ? v.wgPublicKey : undefined),
            'wgPublicKey',
            'not a WireGuard public key (44 characters of base64)',
            v.wgPublicKey,
          ),
        }),
  };
  if (v.leaving === undefined) return record;
  const leaving = v.leaving as { until?: unknown } | null;
  if (typeof leaving !== 'object' || leaving === null) fail('leaving', 'not an object');
  return { ...record, leaving: { until: parseCounter(leaving.until, 'leaving.until') } };
}

/**
 * Coarse RTT for publication: the next step of the 1-2-5 series (0.1 ms floor),
 * so that jitter does not change the record's content every round.
 */
export function quantizeRtt(rttMs: number | null): number | null {
  if (rttMs === null || !Number.isFinite(rttMs) || rttMs < 0) return null;
  for (let decade = 0.1; decade < LIMITS.maxRttMs; decade *= 10) {
    for (const step of [1, 2, 5]) {
      const bound = Number((decade * step).toPrecision(1));
      if (rttMs <= bound) return bound;
    }
  }
  return LIMITS.maxRttMs;
}

/**
 * The RTT to publish given the one published before: the previous value stays
 * while the new one is in the same or an adjacent 1-2-5 step, or both are at
 * most 1 ms (below the clock's resolution). Jitter across a step boundary would
 * otherwise change the record's content, which then travels to every node.
 */
export function stickyRtt(published: number | null | undefined, next: number | null): number | null {
  if (published === undefined || published === null || next === null) return next;
  if (published <= 1 && next <= 1) return published;
  const ratio = Math.max(published, next) / Math.min(published, next);
  return ratio <= 2.5 ? published : next;
}
