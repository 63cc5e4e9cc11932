import { createHmac, createSecretKey, type KeyObject, randomFillSync, timingSafeEqual } from 'node:crypto';
import { WeftError } from '../../../common/errors.js';
import { isNodeName } from './record.js';
import { ReplayCache } from './replay-cache.js';

/**
 * Wire format of one gossip frame (one WebSocket text message):
 *
 *   <mac: 43 chars base64url HMAC-SHA256 of the payload bytes><payload: JSON>
 *   payload = {"type":..,"sender":..,"ts":<epoch ms>,"nonce":<16 chars>,"body":{..}}
 *
 * The MAC is checked before the payload is parsed, so forged input costs one
 * HMAC and nothing else.
 */
export type FrameType = 'digest' | 'records' | 'ping' | 'pong';
export const FRAME_TYPES: readonly FrameType[] = ['digest', 'records', 'ping', 'pong'];

export interface Frame {
  readonly type: FrameType;
  readonly sender: string;
  readonly ts: number;
  readonly nonce: string;
  readonly body: Readonly<Record<string, unknown>>;
}

export type RejectReason =
  | 'bad_mac'
  | 'replay'
  | 'stale'
  | 'oversized'
  | 'malformed'
  | 'unknown_sender'
  | 'unknown_peer';

export const REJECT_REASONS: readonly RejectReason[] = [
  'bad_mac',
  'replay',
  'stale',
  'oversized',
  'malformed',
  'unknown_sender',
  'unknown_peer',
];

export class FrameRejected extends WeftError {
  readonly reason: RejectReason;
  constructor(reason: RejectReason, message: string) {
    super('EGOSSIPFRAME', `gossip frame rejected (${reason}): ${message}`);
    this.reason = reason;
  }
}

export const MAX_FRAME_BYTES = 256 * 1024;
const MAC_CHARS = 43;
const NONCE_RE = /^[A-Za-z0-9_-]{16}$/;

export interface FrameCodecOptions {
  readonly key: Buffer;
  readonly maxFrameBytes?: number;
  /** Accepted clock difference either way, ms. */
  readonly windowMs?: number;
  readonly replayCapacity?: number;
  readonly now?: () => number;
}

// A KeyObject is imported once; passing the raw Buffer to createHmac re-imports
// the key on every frame, which costs several times the MAC itself.
function mac(key: KeyObject, payload: Buffer): Buffer {
  return createHmac('sha256', key).update(payload).digest();
}

/** Encodes and authenticates outgoing frames; verifies and decodes incoming ones. */
export class FrameCodec {
  readonly #key: KeyObject;
  // Nonces are cut from a block of random bytes refilled every 256 frames:
  // one randomBytes call per frame is a measurable share of a round.
  readonly #nonces = Buffer.alloc(12 * 256);
  #nonceAt = this.#nonces.length;
  readonly #maxBytes: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #replays: ReplayCache;

  constructor(opts: FrameCodecOptions) {
    if (opts.key.length < 16) throw new WeftError('EGOSSIPKEY', 'gossip key shorter than 16 bytes');
    this.#key = createSecretKey(opts.key);
    this.#maxBytes = opts.maxFrameBytes ?? MAX_FRAME_BYTES;
    this.#windowMs = opts.windowMs ?? 30_000;
    this.#now = opts.now ?? Date.now;
    this.#replays = new ReplayCache(opts.replayCapacity ?? 65_536, 2 * this.#windowMs);
  }

  get maxFrameBytes(): number {
    return this.#maxBytes;
  }

  encode(type: FrameType, sender: string, body: object, nonce = this.nonce()): string {
    const payload = JSON.stringify({ type, sender, ts: this.#now(), nonce, body });
    const tag = mac(this.#key, Buffer.from(payload)).toString('base64url');
    return tag + payload;
  }

  /** A fresh random 16-character nonce. */
  nonce(): string {
    if (this.#nonceAt >= this.#nonces.length) {
      randomFillSync(this.#nonces);
      this.#nonceAt = 0;
    }
    this.#nonceAt += 12;
    return this.#nonces.toString('base64url', this.#nonceAt - 12, this.#nonceAt);
  }

  /** Verifies and parses one raw message; throws FrameRejected. */
  decode(raw: Buffer | string): Frame {
    const bytes = typeof raw === 'string' ? Buffer.from(raw) : raw;
    if (bytes.length > this.#maxBytes) throw new FrameRejected('oversized', `${bytes.length} bytes`);
    if (bytes.length <= MAC_CHARS) throw new FrameRejected('malformed', 'too short');
    const payload = bytes.subarray(MAC_CHARS);
    const given = Buffer.from(bytes.subarray(0, MAC_CHARS).toString('latin1'), 'base64url');
    const expected = mac(this.#key, payload);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new FrameRejected('bad_mac', 'MAC does not verify');
    }
    const frame = parseFramePayload(payload);
    const now = this.#now();
    if (Math.abs(now - frame.ts) > this.#windowMs) {
      throw new FrameRejected('stale', `timestamp ${frame.ts} is ${now - frame.ts} ms off`);
    }
    if (!this.#replays.remember(`${frame.sender}/${frame.nonce}`, now)) {
      throw new FrameRejected('replay', `nonce ${frame.nonce} from ${frame.sender} seen before`);
    }
    return frame;
  }
}

function parseFramePayload(payload: Buffer): Frame {
  let v: unknown;
  try {
    v = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new FrameRejected('malformed', 'payload is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new FrameRejected('malformed', 'payload is not an object');
  }
  const f = v as Record<string, unknown>;
  if (typeof f.type !== 'string' || !FRAME_TYPES.includes(f.type as FrameType)) {
    throw new FrameRejected('malformed', 'bad type');
  }
  if (!isNodeName(f.sender)) throw new FrameRejected('malformed', 'bad sender');
  if (!Number.isSafeInteger(f.ts)) throw new FrameRejected('malformed', 'bad ts');
  if (typeof f.nonce !== 'string' || !NONCE_RE.test(f.nonce))
    throw new FrameRejected('malformed', 'bad nonce');
  if (typeof f.body !== 'object' || f.body === null || Array.isArray(f.body)) {
    throw new FrameRejected('malformed', 'bad body');
  }
  return {
    type: f.type as FrameType,
    sender: f.sender,
    ts: f.ts as number,
    nonce: f.nonce,
    body: f.body as Record<string, unknown>,
  };
}
