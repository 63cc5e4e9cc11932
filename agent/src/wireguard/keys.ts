import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../cni/atomic-file.js';
import { WireguardError } from './errors.js';

/** The node's key file in the agent's state directory: one line, the base64 private key (`wg genkey` format). */
export const KEY_FILE = 'wireguard.key';

const KEY_BYTES = 32;
const REDACTED = '[redacted wireguard private key]';

/** True for the base64 text of exactly 32 bytes, as `wg` writes and reads keys. */
export function isWireguardKey(text: string | undefined): text is string {
  if (text === undefined || !/^[A-Za-z0-9+/]{43}=$/.test(text)) return false;
  const raw = Buffer.from(text, 'base64');
  return raw.length === KEY_BYTES && raw.toString('base64') === text;
}

/** A public key from untrusted input (a peer's record): canonical base64 of 32 bytes, or EBADKEY. */
export function parsePublicKey(text: unknown): string {
  if (typeof text !== 'string' || !isWireguardKey(text)) {
    throw new WireguardError('EBADKEY', `not a WireGuard public key: ${JSON.stringify(text)}`);
  }
  return text;
}

/** PKCS#8 wrapping of a raw X25519 private key (RFC 8410): this prefix, then the 32 bytes. */
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');

function privateKeyObject(raw: Buffer): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_X25519, raw]), format: 'der', type: 'pkcs8' });
}

/**
 * A node's X25519 key pair. The private half is reachable only through `privateKeyText()`
 * (for `wg set … private-key /dev/stdin`): printing, logging or serialising the object shows
 * the public key and a redaction marker, never the secret.
 */
export class WireguardKeyPair {
  readonly publicKey: string;
  readonly #privateKey: string;

  private constructor(privateKey: string) {
    this.#privateKey = privateKey;
    const jwk = createPublicKey(privateKeyObject(Buffer.from(privateKey, 'base64'))).export({
      format: 'jwk',
    });
    this.publicKey = Buffer.from(String(jwk.x), 'base64url').toString('base64');
  }

  /** From the base64 private key; EBADKEY when it is not 32 bytes of base64. */
  static fromPrivateKey(text: string): WireguardKeyPair {
    if (!isWireguardKey(text)) throw new WireguardError('EBADKEY', 'not a WireGuard private key');
    return new WireguardKeyPair(text);
  }

  /** A fresh key pair (Node's X25519, clamped as `wg genkey` clamps). */
  static generate(): WireguardKeyPair {
    const { privateKey } = generateKeyPairSync('x25519');
    const raw = Buffer.from(String(privateKey.export({ format: 'jwk' }).d), 'base64url');
    raw[0] = (raw[0] ?? 0) & 248;
    raw[31] = ((raw[31] ?? 0) & 127) | 64;
    return new WireguardKeyPair(raw.toString('base64'));
  }

  /** The secret, for the one place that hands it to `wg` on stdin. */
  privateKeyText(): string {
    return this.#privateKey;
  }

  toString(): string {
    return `WireguardKeyPair(public ${this.publicKey}, private ${REDACTED})`;
  }

  toJSON(): { publicKey: string; privateKey: string } {
    return { publicKey: this.publicKey, privateKey: REDACTED };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

export interface LoadedKey {
  readonly key: WireguardKeyPair;
  /** True when there was no key file and this call generated and stored one. */
  readonly created: boolean;
  readonly path: string;
}

/**
 * The node's key pair from `<stateDir>/wireguard.key`; generated and written (0600, atomically)
 * when the file does not exist. A file that exists but does not hold a key is an EKEYFILE error
 * naming the file: it is never replaced (ADR 16 — remove it by hand to rotate the key).
 */
export async function loadOrCreateNodeKey(stateDir: string): Promise<LoadedKey> {
  const path = join(stateDir, KEY_FILE);
  let text: string | undefined;
  try {
    text = await readFile(path, 'utf8');
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new WireguardError('EKEYFILE', `cannot read WireGuard key file ${path}`, { cause: err });
    }
  }
  if (text === undefined) {
    const key = WireguardKeyPair.generate();
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(path, `${key.privateKeyText()}\n`, 0o600);
    return { key, created: true, path };
  }
  const line = text.trim();
  if (!isWireguardKey(line)) {
    throw new WireguardError(
      'EKEYFILE',
      `WireGuard key file ${path} does not hold a key (want one line, the base64 of 32 bytes); it is left as it is: remove it to have a new key generated`,
    );
  }
  await chmod(path, 0o600);
  return { key: WireguardKeyPair.fromPrivateKey(line), created: false, path };
}

/** A new key pair replaces the node's key file (atomically, 0600); the caller then updates the device and publishes it. */
export async function rotateNodeKey(stateDir: string): Promise<LoadedKey> {
  const path = join(stateDir, KEY_FILE);
  const key = WireguardKeyPair.generate();
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, `${key.privateKeyText()}\n`, 0o600);
  return { key, created: true, path };
}
