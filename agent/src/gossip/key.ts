import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { WeftError } from '../../../common/errors.js';

/** Why the key file gives no key: absent (the Secret is not there), unreadable, or too short. */
export type GossipKeyProblem = 'missing' | 'unreadable' | 'short';

export class GossipKeyError extends WeftError {
  readonly problem: GossipKeyProblem;
  constructor(problem: GossipKeyProblem, message: string, cause?: unknown) {
    super('EGOSSIPKEY', message, { cause });
    this.problem = problem;
  }
}

export const MIN_KEY_BYTES = 16;

/**
 * Reads the cluster gossip key from a mounted Secret file. Surrounding
 * whitespace is ignored; the rest is the key, at least 16 bytes.
 */
export async function loadGossipKey(path: string): Promise<Buffer> {
  let text: Buffer;
  try {
    text = await readFile(path);
  } catch (err: unknown) {
    const code = (err as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : 'unreadable';
    throw new GossipKeyError(problem, `cannot read gossip key file ${path}`, err);
  }
  const key = Buffer.from(text.toString('utf8').trim(), 'utf8');
  if (key.length < MIN_KEY_BYTES) {
    throw new GossipKeyError(
      'short',
      `gossip key in ${path} is ${key.length} bytes, needs at least ${MIN_KEY_BYTES}`,
    );
  }
  return key;
}

/** A fixed, public key for WEFT_GOSSIP_INSECURE=true (tests only): frames still carry a checksum. */
export function insecureGossipKey(): Buffer {
  return createHash('sha256').update('weft-insecure-gossip-key').digest();
}
