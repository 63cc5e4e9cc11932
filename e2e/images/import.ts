/**
 * The node images (e2e/images/build.sh) into a node's containerd: one `ctr images import` per
 * OCI archive into the CRI namespace, where kubelet finds them under their upstream names
 * (`registry.k8s.io/pause:3.10`, …) and never pulls: ctr keeps an archive's full reference
 * (`org.opencontainers.image.ref.name`, which podman sets to it) as the image name. An image
 * already there with the same manifest digest is not imported again.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WeftError } from '../../common/errors.js';
import { runChecked } from '../cluster/exec.js';

export class NodeImagesError extends WeftError {}

/** One archive as build.sh records it in `<dir>/<key>.json`. */
export interface NodeImageArchive {
  /** pause, agnhost, coredns, weft */
  key: string;
  /** The upstream reference the image keeps after import. */
  name: string;
  /** Absolute path of the OCI archive. */
  archive: string;
  /** sha256 digest of the image manifest. */
  digest: string;
  bytes: number;
}

/** A containerd to import into: its ctr binary and socket; namespace defaults to k8s.io (CRI). */
export interface ImportTarget {
  ctr: string;
  address: string;
  namespace?: string;
}

export interface ImportedArchive {
  name: string;
  /** false when the node already had this name at this digest. */
  imported: boolean;
  durationMs: number;
}

/** An image in containerd's image store, as `ctr images ls` shows it. */
export interface ContainerdImage {
  name: string;
  mediaType: string;
  digest: string;
}

/** An image as the CRI plugin reports it (`crictl images -o json`). */
export interface CriImage {
  id: string;
  repoTags: string[];
  pinned: boolean;
}

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

/** Validates one `<key>.json` record; `archive` is resolved against `dir`. */
export function parseArchiveRecord(key: string, dir: string, value: unknown): NodeImageArchive {
  const bad = (what: string) => new NodeImagesError('EBADRECORD', `${join(dir, `${key}.json`)}: ${what}`);
  if (typeof value !== 'object' || value === null) throw bad('not a JSON object');
  const r = value as Record<string, unknown>;
  const { name, archive, digest, bytes } = r;
  if (typeof name !== 'string' || !/^[a-z0-9.-]+(:\d+)?\/[a-z0-9._/-]+:[\w.-]+$/.test(name)) {
    throw bad(`"name" must be a full image reference with a tag, got ${JSON.stringify(name)}`);
  }
  if (typeof archive !== 'string' || !/^[\w.-]+\.oci\.tar$/.test(archive)) {
    throw bad(`"archive" must be a file name ending in .oci.tar, got ${JSON.stringify(archive)}`);
  }
  if (typeof digest !== 'string' || !DIGEST_RE.test(digest)) throw bad(`"digest" must be sha256:<64 hex>`);
  if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes <= 0)
    throw bad('"bytes" must be a positive integer');
  return { key, name, archive: join(dir, archive), digest, bytes };
}

/** Every archive recorded in `dir` (build.sh's output directory), ordered by key. */
export function readNodeImageArchives(dir: string): NodeImageArchive[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json') && !f.startsWith('.'));
  } catch (err) {
    throw new NodeImagesError('ENOARCHIVES', `cannot read ${dir}: run e2e/images/build.sh first`, {
      cause: err,
    });
  }
  if (files.length === 0)
    throw new NodeImagesError('ENOARCHIVES', `no archives in ${dir}: run e2e/images/build.sh`);
  return files.sort().map((f) => {
    const key = f.slice(0, -'.json'.length);
    const path = join(dir, f);
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new NodeImagesError('EBADRECORD', `${path}: not JSON`, { cause: err });
    }
    return parseArchiveRecord(key, dir, value);
  });
}

/** Parses `ctr images ls` (columns REF TYPE DIGEST SIZE PLATFORMS LABELS; SIZE holds a space). */
export function parseCtrImagesLs(out: string): ContainerdImage[] {
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) return [];
  if (!/^REF\s+TYPE\s+DIGEST\b/.test(lines[0] ?? '')) {
    throw new NodeImagesError('EPARSE', `ctr images ls: unexpected header ${JSON.stringify(lines[0])}`);
  }
  return lines.slice(1).map((l) => {
    const [name, mediaType, digest] = l.trim().split(/\s+/);
    if (name === undefined || mediaType === undefined || digest === undefined || !DIGEST_RE.test(digest)) {
      throw new NodeImagesError('EPARSE', `ctr images ls: cannot read line ${JSON.stringify(l)}`);
    }
    return { name, mediaType, digest };
  });
}

/** Parses `crictl images -o json`. */
export function parseCriImages(json: string): CriImage[] {
  const doc = JSON.parse(json) as { images?: unknown };
  if (!Array.isArray(doc.images)) throw new NodeImagesError('EPARSE', 'crictl images: no "images" array');
  return doc.images.map((i: Record<string, unknown>) => ({
    id: String(i.id),
    repoTags: Array.isArray(i.repoTags) ? i.repoTags.map(String) : [],
    pinned: i.pinned === true,
  }));
}

function ctrArgv(t: ImportTarget, args: readonly string[]): string[] {
  return [t.ctr, '--address', t.address, '--namespace', t.namespace ?? 'k8s.io', ...args];
}

/** The images in the target's namespace (`ctr images ls`). */
export async function listImportedImages(target: ImportTarget): Promise<ContainerdImage[]> {
  return parseCtrImagesLs(await runChecked(ctrArgv(target, ['images', 'ls'])));
}

/** The images the CRI plugin of the containerd at `address` sees (what kubelet sees). */
export async function listCriImages(crictl: string, address: string): Promise<CriImage[]> {
  const ep = `unix://${address}`;
  return parseCriImages(
    await runChecked([crictl, '--runtime-endpoint', ep, '--image-endpoint', ep, 'images', '-o', 'json']),
  );
}

export interface ImportOptions {
  /**
   * Unpack into the overlayfs snapshotter at import (`ctr images import` without --no-unpack).
   * Default false: the CRI plugin unpacks an image on a node when the first container from it
   * is created there (so does `ctr run`), which makes the import itself about 8x faster and
   * leaves images a node never runs packed. See docs/image.md for the figures.
   */
  unpack?: boolean;
}

/**
 * Imports `archives` into one containerd, one after another, skipping those already present at
 * the same manifest digest; checks afterwards that every name is there at its digest.
 */
export async function importNodeImages(
  target: ImportTarget,
  archives: readonly NodeImageArchive[],
  opts: ImportOptions = {},
): Promise<ImportedArchive[]> {
  const present = new Map((await listImportedImages(target)).map((i) => [i.name, i.digest]));
  const flags = opts.unpack === true ? [] : ['--no-unpack'];
  const results: ImportedArchive[] = [];
  for (const a of archives) {
    const t0 = performance.now();
    const imported = present.get(a.name) !== a.digest;
    if (imported)
      await runChecked(ctrArgv(target, ['images', 'import', ...flags, a.archive]), { timeoutMs: 600_000 });
    results.push({ name: a.name, imported, durationMs: Math.round(performance.now() - t0) });
  }
  const after = new Map((await listImportedImages(target)).map((i) => [i.name, i.digest]));
  const missing = archives.filter((a) => after.get(a.name) !== a.digest).map((a) => a.name);
  if (missing.length > 0) {
    throw new NodeImagesError(
      'EIMPORT',
      `after import, ${target.address} lacks ${missing.join(', ')} at the archived digest`,
    );
  }
  return results;
}
