import { type Ipv4Cidr, parseCidr } from '../../common/cidr.js';
import { errorMessage, WeftError } from '../../common/errors.js';
import { familyBits, type IpFamily } from '../../common/ip.js';
import {
  formatIpPrefix,
  type IpPrefix,
  nthSubprefix,
  parseIpPrefix,
  prefixContainsPrefix,
  prefixFromIpv4Cidr,
  prefixSize,
  subprefixCount,
  subprefixIndexOf,
} from '../../common/ip-prefix.js';

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
  readonly cidr: IpPrefix;
  readonly count: number;
  /** subnet index -> names of the Nodes holding it */
  readonly owners: Map<number, Set<string>>;
}

interface Holding {
  readonly uid: string;
  readonly cidrs: string[];
  readonly slots: Array<{ readonly pool: Pool; readonly index: number }>;
}

/** Most subnets one pool may have (subnet indices stay exact JavaScript numbers). */
const MAX_POOL_SUBNETS = 2n ** 32n;

/**
 * One family's allocator: cluster CIDRs split into /maskSize subnets, lowest free first.
 * Subnet indices are numbers (net-conf allows at most 65536 per cluster CIDR); the
 * address math is bigint, so an IPv6 /48 split into /64s is the same code as IPv4.
 */
export class FamilyPodCidrAllocator implements PodCidrAllocator {
  readonly family: IpFamily;
  readonly #pools: Pool[];
  readonly #maskSize: number;
  readonly #byName = new Map<string, Holding>();

  constructor(family: IpFamily, clusterCidrs: readonly IpPrefix[], maskSize: number) {
    if (clusterCidrs.length === 0) {
      throw new WeftError('ECONFIG', `no IPv${family} cluster CIDR to allocate from`);
    }
    for (const c of clusterCidrs) {
      if (c.family !== family) {
        throw new WeftError('ECONFIG', `cluster CIDR ${formatIpPrefix(c)} is not IPv${family}`);
      }
      if (maskSize < c.length || maskSize > familyBits(family)) {
        throw new WeftError(
          'ECONFIG',
          `node mask /${maskSize} does not fit cluster CIDR ${formatIpPrefix(c)}`,
        );
      }
      if (subprefixCount(c, maskSize) > MAX_POOL_SUBNETS) {
        throw new WeftError(
          'ECONFIG',
          `node mask /${maskSize} splits ${formatIpPrefix(c)} into too many subnets`,
        );
      }
    }
    this.family = family;
    this.#maskSize = maskSize;
    this.#pools = clusterCidrs.map((cidr) => ({
      cidr,
      count: Number(subprefixCount(cidr, maskSize)),
      owners: new Map(),
    }));
  }

  handles(cidr: string): boolean {
    return cidr.includes(':') === (this.family === 6);
  }

  claim(owner: CidrOwner, cidr: string): ClaimOutcome {
    let parsed: IpPrefix;
    try {
      parsed = parseHeldCidr(this.family, cidr);
    } catch (err: unknown) {
      return { kind: 'invalid', cidr, reason: errorMessage(err) };
    }
    const text = formatIpPrefix(parsed);
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
        const cidr = formatIpPrefix(nthSubprefix(pool.cidr, this.#maskSize, BigInt(index)));
        this.#record(owner, cidr, [{ pool, index }]);
        return cidr;
      }
    }
    const pools = this.#pools.map((p) => formatIpPrefix(p.cidr)).join(', ');
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

/** The IPv4 allocator, built from common/cidr.ts prefixes. */
export class Ipv4PodCidrAllocator extends FamilyPodCidrAllocator {
  constructor(clusterCidrs: readonly Ipv4Cidr[], maskSize: number) {
    super(4, clusterCidrs.map(prefixFromIpv4Cidr), maskSize);
  }
}

/**
 * Reads a podCIDR a Node already has, leniently (host bits cleared): whatever the API
 * server accepted must be counted, or it could be handed out twice. IPv4 goes through
 * common/cidr.ts, which, like the API server's ParseCIDRSloppy, reads "010.244.1.0/24"
 * as 10.244.1.0/24; the strict parser would refuse the leading zero.
 */
function parseHeldCidr(family: IpFamily, text: string): IpPrefix {
  if (family === 4) return prefixFromIpv4Cidr(parseCidr(text, false));
  const parsed = parseIpPrefix(text, { strict: false });
  if (parsed.family !== family) throw new WeftError('ECIDR', `${text} is not IPv${family}`);
  return parsed;
}

/** The pool's /maskSize subnets that `cidr` overlaps (all of them when it covers the pool). */
function slotsOverlapping(
  pool: Pool,
  cidr: IpPrefix,
  maskSize: number,
): Array<{ pool: Pool; index: number }> {
  let first: number;
  let count: number;
  if (prefixContainsPrefix(cidr, pool.cidr)) {
    first = 0;
    count = pool.count;
  } else if (prefixContainsPrefix(pool.cidr, cidr)) {
    const slotSize = 1n << BigInt(familyBits(cidr.family) - maskSize);
    first = Number(subprefixIndexOf(pool.cidr, maskSize, cidr));
    count = Math.max(1, Number(prefixSize(cidr) / slotSize));
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
