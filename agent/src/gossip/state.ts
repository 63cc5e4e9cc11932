import { incarnationTag, type NodeRecord } from './record.js';

/** What a node holds for one name: the incarnation tag and version. */
export interface DigestEntry {
  readonly tag: string;
  readonly version: number;
}

/** name → (incarnation tag, version). An absent name means "I hold nothing". */
export type Digest = ReadonlyMap<string, DigestEntry>;

/**
 * A heartbeat-only advance: "record `name` of incarnation `tag` whose content is
 * at `contentVersion` is now at `version`". Applies only on top of that content.
 */
export interface Bump {
  readonly name: string;
  readonly tag: string;
  readonly version: number;
  readonly contentVersion: number;
}

/** Records and bumps: the unit of merge and of transfer. */
export interface Delta {
  readonly records: readonly NodeRecord[];
  readonly bumps: readonly Bump[];
}

export const EMPTY_DELTA: Delta = { records: [], bumps: [] };

export function isEmptyDelta(d: Delta): boolean {
  return d.records.length === 0 && d.bumps.length === 0;
}

/** Orders records by (incarnation, version); 0 means same key. */
export function compareRecordKeys(a: NodeRecord, b: NodeRecord): number {
  if (a.incarnation !== b.incarnation) return a.incarnation < b.incarnation ? -1 : 1;
  return a.version - b.version;
}

/** Stable text of a record, used only to break ties between conflicting equal keys. */
function canonical(r: NodeRecord): string {
  return JSON.stringify(r, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
      : v,
  );
}

/** True when `incoming` should replace `current` (a total order, so merge commutes). */
export function supersedes(incoming: NodeRecord, current: NodeRecord | undefined): boolean {
  if (current === undefined) return true;
  const c = compareRecordKeys(incoming, current);
  if (c !== 0) return c > 0;
  if (incoming === current) return false;
  return canonical(incoming) > canonical(current);
}

/** The bumped form of a record: same content, higher version. */
export function applyBump(record: NodeRecord, bump: Bump): NodeRecord | undefined {
  const applies =
    incarnationTag(record.incarnation) === bump.tag &&
    record.contentVersion === bump.contentVersion &&
    bump.version > record.version;
  return applies ? { ...record, version: bump.version } : undefined;
}

/**
 * The gossip state: one record per node name, each written only by its owner.
 * No I/O and no clock: callers pass `now` where time matters. `merge` is
 * idempotent and commutative; it returns only what was new to this state.
 */
export class GossipState {
  readonly #records = new Map<string, NodeRecord>();
  #membershipVersion = 0;

  constructor(records: Iterable<NodeRecord> = []) {
    for (const r of records) this.merge({ records: [r], bumps: [] });
  }

  get size(): number {
    return this.#records.size;
  }

  get(name: string): NodeRecord | undefined {
    return this.#records.get(name);
  }

  records(): NodeRecord[] {
    return [...this.#records.values()];
  }

  names(): string[] {
    return [...this.#records.keys()];
  }

  /** Name → incarnation of every record. */
  members(): Map<string, string> {
    return new Map([...this.#records.values()].map((r) => [r.name, r.incarnation]));
  }

  /** Changes whenever a name is added or removed or changes incarnation (for caching). */
  get membershipVersion(): number {
    return this.#membershipVersion;
  }

  #set(record: NodeRecord): void {
    if (this.#records.get(record.name)?.incarnation !== record.incarnation) this.#membershipVersion++;
    this.#records.set(record.name, record);
  }

  /** Merges incoming data; returns exactly the parts that changed this state. */
  merge(incoming: Delta): Delta {
    const changed = new Map<string, NodeRecord>();
    for (const r of incoming.records) {
      if (!supersedes(r, this.#records.get(r.name))) continue;
      this.#set(r);
      changed.set(r.name, r);
    }
    const bumps: Bump[] = [];
    for (const b of incoming.bumps) {
      const current = this.#records.get(b.name);
      const next = current && applyBump(current, b);
      if (!next) continue;
      this.#records.set(b.name, next);
      const whole = changed.get(b.name);
      if (whole) changed.set(b.name, next);
      else bumps.push(b);
    }
    return { records: [...changed.values()], bumps };
  }

  /** Replaces a record unconditionally (the owner writing its own record). */
  put(record: NodeRecord): void {
    this.#set(record);
  }

  delete(name: string): boolean {
    const had = this.#records.delete(name);
    if (had) this.#membershipVersion++;
    return had;
  }

  digest(): Digest {
    const d = new Map<string, DigestEntry>();
    for (const r of this.#records.values()) {
      d.set(r.name, { tag: incarnationTag(r.incarnation), version: r.version });
    }
    return d;
  }

  /**
   * What the holder of `digest` lacks from me: a bump where it has my content
   * already, the whole record otherwise. With `scope: 'listed'` only names in
   * the digest are considered (a reply to a want list).
   */
  missingFor(digest: Digest, scope: 'all' | 'listed' = 'all'): Delta {
    const records: NodeRecord[] = [];
    const bumps: Bump[] = [];
    const consider = (r: NodeRecord): void => {
      const theirs = digest.get(r.name);
      if (!theirs) {
        if (scope === 'all') records.push(r);
        return;
      }
      if (theirs.tag !== incarnationTag(r.incarnation)) {
        records.push(r);
        return;
      }
      if (theirs.version >= r.version) return;
      if (theirs.version >= r.contentVersion) bumps.push(bumpOf(r));
      else records.push(r);
    };
    if (scope === 'listed') {
      for (const name of digest.keys()) {
        const r = this.#records.get(name);
        if (r) consider(r);
      }
    } else {
      for (const r of this.#records.values()) consider(r);
    }
    return { records, bumps };
  }

  /**
   * Names where `digest` may hold something newer than I do, keyed with what I
   * hold (version 0 and an empty tag when I hold nothing): a want list.
   */
  wantedFrom(digest: Digest, accept: (name: string) => boolean = () => true): Digest {
    const want = new Map<string, DigestEntry>();
    for (const [name, theirs] of digest) {
      if (!accept(name)) continue;
      const mine = this.#records.get(name);
      if (!mine) want.set(name, { tag: '', version: 0 });
      else if (theirs.tag !== incarnationTag(mine.incarnation) || theirs.version > mine.version) {
        want.set(name, { tag: incarnationTag(mine.incarnation), version: mine.version });
      }
    }
    return want;
  }

  /** Drops tombstones whose time is up; returns their names. */
  expireTombstones(nowMs: number): string[] {
    const gone: string[] = [];
    for (const r of this.#records.values()) {
      if (r.leaving && r.leaving.until <= nowMs) gone.push(r.name);
    }
    for (const name of gone) this.delete(name);
    return gone;
  }
}

export function bumpOf(r: NodeRecord): Bump {
  return {
    name: r.name,
    tag: incarnationTag(r.incarnation),
    version: r.version,
    contentVersion: r.contentVersion,
  };
}
