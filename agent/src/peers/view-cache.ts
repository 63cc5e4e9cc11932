import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../../common/log.js';
import { writeFileAtomic } from '../cni/atomic-file.js';
import type { PeerNode } from '../datapath/types.js';
import { parsePeerRecord } from '../kube/node-convert.js';

export const VIEW_CACHE_FILE = 'cluster-view.json';
const SCHEMA_VERSION = 1;

/** What is on disk: the last cluster view the API server gave us. */
export interface CachedView {
  readonly nodeName: string;
  readonly writtenAt: string;
  readonly nodes: readonly PeerNode[];
}

/**
 * The last known good cluster view at `<stateDir>/cluster-view.json`, so that an
 * agent restarted while the API server is unreachable can still program its peers.
 * Writes are atomic (temp file, fsync, rename, fsync of the directory).
 */
export class ViewCache {
  readonly path: string;
  readonly #log: Logger;
  readonly #stateDir: string;

  constructor({ stateDir, log }: { stateDir: string; log: Logger }) {
    this.#stateDir = stateDir;
    this.path = join(stateDir, VIEW_CACHE_FILE);
    this.#log = log;
  }

  /**
   * Returns the cached view, or undefined when there is none, it is corrupt, has
   * another schema version, or belongs to another node; never throws on bad content.
   */
  async load(nodeName: string): Promise<CachedView | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err: unknown) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.#log.warn({ err, op: 'load' }, 'cannot read cluster view cache');
      }
      return undefined;
    }
    try {
      return parseCachedView(text, nodeName);
    } catch (err: unknown) {
      this.#log.warn({ err: (err as Error).message, op: 'load' }, 'ignoring invalid cluster view cache');
      return undefined;
    }
  }

  async save(nodeName: string, nodes: readonly PeerNode[]): Promise<void> {
    const body = {
      version: SCHEMA_VERSION,
      nodeName,
      writtenAt: new Date().toISOString(),
      // The WireGuard key too: a restarted agent keeps encrypting to its peers before gossip answers.
      nodes: nodes.map((n) => ({
        name: n.name,
        underlayIP: n.underlayIP,
        // Absent on IPv4-only nodes: such a file is what agents before dual-stack wrote and read.
        ...(n.underlayIP6 === undefined ? {} : { underlayIP6: n.underlayIP6 }),
        podCIDRs: n.podCIDRs,
        ...(n.wgPublicKey === undefined ? {} : { wgPublicKey: n.wgPublicKey }),
      })),
    };
    await mkdir(this.#stateDir, { recursive: true });
    await writeFileAtomic(this.path, `${JSON.stringify(body)}\n`);
  }
}

export function parseCachedView(text: string, nodeName: string): CachedView {
  const raw = JSON.parse(text) as Record<string, unknown> | null;
  if (typeof raw !== 'object' || raw === null) throw new Error('not an object');
  if (raw.version !== SCHEMA_VERSION) throw new Error(`unsupported version ${JSON.stringify(raw.version)}`);
  if (raw.nodeName !== nodeName) throw new Error(`written for node ${JSON.stringify(raw.nodeName)}`);
  if (typeof raw.writtenAt !== 'string') throw new Error('writtenAt missing');
  if (!Array.isArray(raw.nodes)) throw new Error('nodes is not a list');
  return { nodeName, writtenAt: raw.writtenAt, nodes: raw.nodes.map(parsePeerRecord) };
}
