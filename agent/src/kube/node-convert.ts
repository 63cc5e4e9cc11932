import { formatCidr, isIpv4, parseCidr } from '../../../common/cidr.js';
import { WeftError } from '../../../common/errors.js';
import type { PeerNode } from '../datapath/types.js';
import { isWireguardKey } from '../wireguard/keys.js';

/** The parts of a Kubernetes Node the agent reads (everything else is dropped on arrival). */
export interface KubeNode {
  readonly metadata?: { readonly name?: string; readonly resourceVersion?: string };
  readonly spec?: { readonly podCIDR?: string; readonly podCIDRs?: readonly string[] };
  readonly status?: {
    readonly addresses?: ReadonlyArray<{ readonly type: string; readonly address: string }>;
  };
}

/** A Node (from the API or the disk cache) that cannot be used: names the field and value. */
export class NodeParseError extends WeftError {
  readonly node: string;
  readonly field: string;
  readonly value: unknown;
  constructor(node: string, field: string, value: unknown, reason: string) {
    super('ENODE', `node ${node}: invalid ${field}=${JSON.stringify(value)}: ${reason}`);
    this.node = node;
    this.field = field;
    this.value = value;
  }
}

/**
 * Turns a Kubernetes Node into {name, underlayIP (InternalIP), podCIDRs}. IPv6
 * podCIDRs of a dual-stack node are dropped (Weft routes IPv4); anything else
 * malformed throws a NodeParseError naming the field.
 */
export function parseKubeNode(node: KubeNode): PeerNode {
  const name = node.metadata?.name;
  if (!name) throw new NodeParseError('<unnamed>', 'metadata.name', name, 'missing');
  const internal = (node.status?.addresses ?? []).filter((a) => a.type === 'InternalIP');
  const v4 = internal.find((a) => isIpv4(a.address));
  if (!v4) {
    throw new NodeParseError(
      name,
      'status.addresses',
      internal.map((a) => a.address),
      'no IPv4 InternalIP',
    );
  }
  const listed = node.spec?.podCIDRs ?? (node.spec?.podCIDR ? [node.spec.podCIDR] : []);
  const field = node.spec?.podCIDRs ? 'spec.podCIDRs' : 'spec.podCIDR';
  return { name, underlayIP: v4.address.trim(), podCIDRs: parsePodCIDRs(name, field, listed) };
}

/** Validates a node record that did not come from the API (disk cache, gossip). */
export function parsePeerRecord(value: unknown): PeerNode {
  const rec = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const name = rec.name;
  if (typeof name !== 'string' || name === '') throw new NodeParseError('<unnamed>', 'name', name, 'missing');
  if (typeof rec.underlayIP !== 'string' || !isIpv4(rec.underlayIP)) {
    throw new NodeParseError(name, 'underlayIP', rec.underlayIP, 'not an IPv4 address');
  }
  if (!Array.isArray(rec.podCIDRs)) throw new NodeParseError(name, 'podCIDRs', rec.podCIDRs, 'not a list');
  const node = { name, underlayIP: rec.underlayIP, podCIDRs: parsePodCIDRs(name, 'podCIDRs', rec.podCIDRs) };
  if (rec.wgPublicKey === undefined) return node;
  if (typeof rec.wgPublicKey !== 'string' || !isWireguardKey(rec.wgPublicKey)) {
    throw new NodeParseError(name, 'wgPublicKey', rec.wgPublicKey, 'not a WireGuard public key');
  }
  return { ...node, wgPublicKey: rec.wgPublicKey };
}

function parsePodCIDRs(name: string, field: string, values: readonly unknown[]): string[] {
  const out: string[] = [];
  for (const value of values) {
    if (typeof value !== 'string') throw new NodeParseError(name, field, value, 'not a string');
    if (value.includes(':')) continue;
    try {
      out.push(formatCidr(parseCidr(value)));
    } catch (err: unknown) {
      throw new NodeParseError(name, field, value, (err as Error).message);
    }
  }
  return out;
}
