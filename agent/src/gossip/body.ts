import { createHash } from 'node:crypto';
import { FrameRejected } from './frame.js';
import { incarnationTag, isNodeName, type NodeRecord, parseRecord, RecordError } from './record.js';
import type { Bump, Delta, Digest, DigestEntry } from './state.js';

/**
 * Bodies of the frame types, and their validation. A digest travels in one of
 * two forms:
 *  - compact `{h, e}`: `h` hashes the sender's sorted (name, incarnation)
 *    list, `e` lists the versions (base36) in that order; usable only by a
 *    receiver holding exactly the same names and incarnations (the steady
 *    state), about 3 bytes per node;
 *  - full `{f: [[name, tag, version], ...]}`.
 * A records body is `{r: records, b: bumps, w?: want list, re?: nonce, n?: 1}`;
 * `n` marks a news push (forwarded by receivers), as opposed to an
 * anti-entropy answer (merged but not forwarded).
 */
export interface NameIndex {
  readonly names: readonly string[];
  readonly tags: readonly string[];
  readonly hash: string;
}

const TAG_RE = /^[0-9a-f]{6}$/;
const MAX_ENTRIES = 20_000;

/** The sorted membership (name → incarnation) and its hash, for compact digests. */
export function computeNameIndex(members: ReadonlyMap<string, string>): NameIndex {
  const names = [...members.keys()].sort();
  const incarnations = names.map((n) => members.get(n) as string);
  const hash = createHash('sha256')
    .update(names.map((n, i) => `${n} ${incarnations[i]}`).join('\n'))
    .digest('base64url')
    .slice(0, 11);
  return { names, tags: incarnations.map(incarnationTag), hash };
}

function bad(message: string): never {
  throw new FrameRejected('malformed', message);
}

/** `versionOf(name)`: the version held for a name of the index, 0 for none. */
export function encodeCompactDigest(versionOf: (name: string) => number, index: NameIndex): object {
  const parts: string[] = new Array(index.names.length);
  index.names.forEach((name, i) => {
    parts[i] = versionOf(name).toString(36);
  });
  return { h: index.hash, e: parts.join(',') };
}

// Validated in one pass over the string rather than per entry (N entries a round).
const COMPACT_RE = /^[0-9a-z]{1,11}(?:,[0-9a-z]{1,11})*$/;

export function encodeFullDigest(digest: Digest): object {
  return { f: [...digest].map(([name, e]) => [name, e.tag, e.version]) };
}

/** Parses a digest body; 'mismatch' when compact and our name lists differ. */
export function parseDigestBody(
  body: Readonly<Record<string, unknown>>,
  index: NameIndex,
): Digest | 'mismatch' {
  if (typeof body.h === 'string' && typeof body.e === 'string') {
    if (body.h !== index.hash) return 'mismatch';
    if (!COMPACT_RE.test(body.e)) bad('bad compact digest entry');
    const parts = body.e.split(',');
    if (parts.length !== index.names.length) return 'mismatch';
    const digest = new Map<string, DigestEntry>();
    parts.forEach((p, i) => {
      const version = Number.parseInt(p, 36);
      if (!Number.isSafeInteger(version)) bad('bad compact digest entry');
      if (version > 0) digest.set(index.names[i] as string, { tag: index.tags[i] as string, version });
    });
    return digest;
  }
  return parseEntries(body.f, 'digest');
}

function parseEntries(value: unknown, what: string): Map<string, DigestEntry> {
  if (!Array.isArray(value) || value.length > MAX_ENTRIES) bad(`${what} is not a list`);
  const digest = new Map<string, DigestEntry>();
  for (const item of value) {
    if (!Array.isArray(item) || item.length !== 3) bad(`${what} entry is not [name, tag, version]`);
    const [name, tag, version] = item as unknown[];
    const okTag = tag === '' || (typeof tag === 'string' && TAG_RE.test(tag));
    if (!isNodeName(name) || !okTag || !Number.isSafeInteger(version) || (version as number) < 0) {
      bad(`${what} entry is malformed`);
    }
    digest.set(name, { tag: tag as string, version: version as number });
  }
  return digest;
}

export interface RecordsBody extends Delta {
  readonly want: Digest;
  /** Nonce of the digest frame this answers (for RTT). */
  readonly re: string | undefined;
  readonly news: boolean;
}

export function encodeRecordsBody(delta: Delta, want?: Digest, re?: string, news = false): object {
  const body: Record<string, unknown> = {
    r: delta.records,
    b: delta.bumps.map((b) => [b.name, b.tag, b.version, b.contentVersion]),
  };
  if (want && want.size > 0) body.w = [...want].map(([name, e]) => [name, e.tag, e.version]);
  if (re !== undefined) body.re = re;
  if (news) body.n = 1;
  return body;
}

function parseBump(item: unknown): Bump {
  if (!Array.isArray(item) || item.length !== 4) bad('bump is not [name, tag, version, contentVersion]');
  const [name, tag, version, contentVersion] = item as unknown[];
  const ok =
    isNodeName(name) &&
    typeof tag === 'string' &&
    TAG_RE.test(tag) &&
    Number.isSafeInteger(version) &&
    Number.isSafeInteger(contentVersion) &&
    (contentVersion as number) >= 0 &&
    (contentVersion as number) <= (version as number);
  if (!ok) bad('bump is malformed');
  return { name, tag, version: version as number, contentVersion: contentVersion as number };
}

/** Validates a records body, every record field included. */
export function parseRecordsBody(body: Readonly<Record<string, unknown>>): RecordsBody {
  const { r, b, w, re, n } = body;
  if (n !== undefined && n !== 1) bad('n is malformed');
  if (!Array.isArray(r) || r.length > MAX_ENTRIES) bad('records is not a list');
  if (!Array.isArray(b) || b.length > MAX_ENTRIES) bad('bumps is not a list');
  if (re !== undefined && (typeof re !== 'string' || re.length > 32)) bad('re is malformed');
  let records: NodeRecord[];
  try {
    records = r.map(parseRecord);
  } catch (err: unknown) {
    if (err instanceof RecordError) throw new FrameRejected('malformed', err.message);
    throw err;
  }
  return {
    records,
    bumps: b.map(parseBump),
    want: w === undefined ? new Map() : parseEntries(w, 'want'),
    re: re as string | undefined,
    news: n === 1,
  };
}

/** A pong echoes the ping's nonce. */
export function parsePongBody(body: Readonly<Record<string, unknown>>): string {
  if (typeof body.re !== 'string' || body.re.length > 32) bad('pong without re');
  return body.re;
}
