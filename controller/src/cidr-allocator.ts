import {
  cidrContainsCidr,
  cidrSize,
  formatCidr,
  type Ipv4Cidr,
  nthSubnet,
  parseCidr,
} from '../../common/cidr.js';
import { errorMessage, WeftError } from '../../common/errors.js';

export type IpFamily = 'ipv4' | 'ipv6';

/** A Node as the allocator knows it: the uid tells a re-created Node from the old one. */
export interface CidrOwner {
  readonly name: string;
  readonly uid: string;
}

/** A Node's current podCIDRs, as read from spec.podCIDRs (or spec.podCIDR). */
export interface NodeCidrs extends CidrOwner {
  readonly podCIDRs: readonly string[];
}

export type ClaimOutcome =
  /** Recorded as used by this Node. */
  | { readonly kind: 'claimed'; readonly cidr: string }
  /** Recorded, but other Nodes already hold (part of) it: a conflict someone else made. */
  | { readonly kind: 'shared'; readonly cidr: string; readonly others: readonly string[] }
  /** Not inside any cluster CIDR of this family: ignored (it blocks nothing we hand out). */
  | { readonly kind: 'outside'; readonly cidr: string }
  /** Not a CIDR of this family at all. */
  | { readonly kind: 'invalid'; readonly cidr: string; readonly reason: string };

export interface CidrUsage {
  readonly total: number;
  readonly inUse: number;
  readonly free: number;
}

/** One address family's pool of podCIDRs (dual-stack runs one allocator per family). */
export interface PodCidrAllocator {
  readonly family: IpFamily;
  /** True when `cidr` is of this allocator's family. */
  handles(cidr: string): boolean;
  /** Records a podCIDR a Node already has. Idempotent. */
  claim(owner: CidrOwner, cidr: string): ClaimOutcome;
  /** Picks the lowest free podCIDR for `owner` and records it; throws CidrExhaustedError. */
  allocate(owner: CidrOwner): string;
  /** Frees everything the named Node holds; returns what was freed. */
  release(name: string): readonly string[];
  /** The uid and podCIDRs recorded for the named Node, if any. */
  heldBy(name: string): { readonly uid: string; readonly cidrs: readonly string[] } | undefined;
  /** Forgets every claim (before a rebuild). */
  reset(): void;
  usage(): CidrUsage;
}

export class CidrExhaustedError extends WeftError {
  constructor(message: string) {
    super('ECIDREXHAUSTED', message);
  }
}

interface Pool {
  readonly cidr: Ipv4Cidr;
  readonly count: number;
  /** subnet index -> names of the Nodes holding it */
  readonly owners: Map<number, Set<string>>;
}

interface Holding {
  readonly uid: string;
  readonly cidrs: string[];
  readonly slots: Array<{ readonly pool: Pool; readonly index: number }>;
}

/** The IPv4 allocator: cluster CIDRs split into /maskSize subnets, lowest free first. */
export class Ipv4PodCidrAllocator implements PodCidrAllocator {
  readonly family = 'ipv4';
  readonly #pools: Pool[];
  readonly #maskSize: number;
  readonly #byName = new Map<string, Holding>();

  constructor(clusterCidrs: readonly Ipv4Cidr[], maskSize: number) {
    if (clusterCidrs.length === 0) throw new WeftError('ECONFIG', 'no IPv4 cluster CIDR to allocate from');
    for (const c of clusterCidrs) {
      if (maskSize < c.prefix || maskSize > 32) {
        throw new WeftError('ECONFIG', `node mask /${maskSize} does not fit cluster CIDR ${formatCidr(c)}`);
      }
    }
    this.#maskSize = maskSize;
    this.#pools = clusterCidrs.map((cidr) => ({
      cidr,
      count: 2 ** (maskSize - cidr.prefix),
      owners: new Map(),
    }));
  }

  handles(cidr: string): boolean {
    return !cidr.includes(':');
  }

  claim(owner: CidrOwner, cidr: string): ClaimOutcome {
    let parsed: Ipv4Cidr;
    try {
      parsed = parseCidr(cidr, false);
    } catch (err: unknown) {
      return { kind: 'invalid', cidr, reason: errorMessage(err) };
    }
    const text = formatCidr(parsed);
    const held = this.#byName.get(owner.name);
    if (held !== undefined && held.uid !== owner.uid) this.release(owner.name);
    else if (held?.cidrs.includes(text)) return { kind: 'claimed', cidr: text };
    const slots = this.#pools.flatMap((pool) => slotsOverlapping(pool, parsed, this.#maskSize));
    if (slots.length === 0) {
      this.#record(owner, text, []); // remembered so that it is reported once, blocks nothing
      return { kind: 'outside', cidr: text };
    }
    const others = new Set<string>();
    for (const { pool, index } of slots) {
      for (const name of pool.owners.get(index) ?? []) if (name !== owner.name) others.add(name);
    }
    this.#record(owner, text, slots);
    return others.size === 0
      ? { kind: 'claimed', cidr: text }
      : { kind: 'shared', cidr: text, others: [...others].sort() };
  }

  allocate(owner: CidrOwner): string {
    this.release(owner.name);
    for (const pool of this.#pools) {
      for (let index = 0; index < pool.count; index++) {
        if (pool.owners.has(index)) continue;
        const cidr = formatCidr(nthSubnet(pool.cidr, this.#maskSize, index));
        this.#record(owner, cidr, [{ pool, index }]);
        return cidr;
      }
    }
    const pools = this.#pools.map((p) => formatCidr(p.cidr)).join(', ');
    throw new CidrExhaustedError(
      `no free /${this.#maskSize} left in ${pools} for node ${owner.name} (${this.usage().inUse} in use)`,
    );
  }

  release(name: string): readonly string[] {
    const held = this.#byName.get(name);
    if (held === undefined) return [];
    this.#byName.delete(name);
    for (const { pool, index } of held.slots) {
      const names = pool.owners.get(index);
      names?.delete(name);
      if (names?.size === 0) pool.owners.delete(index);
    }
    return held.cidrs;
  }

  heldBy(name: string): { readonly uid: string; readonly cidrs: readonly string[] } | undefined {
    const held = this.#byName.get(name);
    return held === undefined ? undefined : { uid: held.uid, cidrs: [...held.cidrs] };
  }

  reset(): void {
    this.#byName.clear();
    for (const pool of this.#pools) pool.owners.clear();
  }

  usage(): CidrUsage {
    let total = 0;
    let inUse = 0;
    for (const pool of this.#pools) {
      total += pool.count;
      inUse += pool.owners.size;
    }
    return { total, inUse, free: total - inUse };
  }

  #record(owner: CidrOwner, cidr: string, slots: Holding['slots']): void {
    let held = this.#byName.get(owner.name);
    if (held === undefined) {
      held = { uid: owner.uid, cidrs: [], slots: [] };
      this.#byName.set(owner.name, held);
    }
    held.cidrs.push(cidr);
    for (const slot of slots) {
      held.slots.push(slot);
      let names = slot.pool.owners.get(slot.index);
      if (names === undefined) {
        names = new Set();
        slot.pool.owners.set(slot.index, names);
      }
      names.add(owner.name);
    }
  }
}

/** The pool's /maskSize subnets that `cidr` overlaps (all of them when it covers the pool). */
function slotsOverlapping(
  pool: Pool,
  cidr: Ipv4Cidr,
  maskSize: number,
): Array<{ pool: Pool; index: number }> {
  let first: number;
  let count: number;
  if (cidrContainsCidr(cidr, pool.cidr)) {
    first = 0;
    count = pool.count;
  } else if (cidrContainsCidr(pool.cidr, cidr)) {
    const slotSize = 2 ** (32 - maskSize);
    first = Math.floor((cidr.network - pool.cidr.network) / slotSize);
    count = Math.max(1, cidrSize(cidr) / slotSize);
  } else {
    return [];
  }
  return Array.from({ length: count }, (_, i) => ({ pool, index: first + i }));
}

export interface UncleanClaim {
  readonly node: string;
  readonly outcome: Exclude<ClaimOutcome, { kind: 'claimed' }>;
}

/**
 * Makes the allocator's record of one Node match the podCIDRs the Node has (of this
 * family): a no-op when it already does, else release + claim. Returns the claims that
 * were not clean, for the caller to log.
 */
export function recordNodeCidrs(allocator: PodCidrAllocator, node: NodeCidrs): UncleanClaim[] {
  const wanted = node.podCIDRs.filter((c) => allocator.handles(c));
  const held = allocator.heldBy(node.name);
  if (held !== undefined && held.uid === node.uid && sameMembers(held.cidrs, wanted)) return [];
  allocator.release(node.name);
  const unclean: UncleanClaim[] = [];
  for (const cidr of wanted) {
    const outcome = allocator.claim(node, cidr);
    if (outcome.kind !== 'claimed') unclean.push({ node: node.name, outcome });
  }
  return unclean;
}

/**
 * Rebuilds an allocator from all Nodes' current podCIDRs (start-up and every informer
 * re-list), so a restart never hands out a podCIDR a Node already has.
 */
export function rebuildAllocator(allocator: PodCidrAllocator, nodes: readonly NodeCidrs[]): UncleanClaim[] {
  allocator.reset();
  return nodes.flatMap((node) => recordNodeCidrs(allocator, node));
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
