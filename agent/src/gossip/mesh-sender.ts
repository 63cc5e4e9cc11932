import { encodeRecordsBody } from './body.js';
import { chunkDelta } from './chunk.js';
import type { FrameCodec, FrameType } from './frame.js';
import type { GossipMetrics } from './metrics.js';
import type { PeerTable } from './peer-table.js';
import type { Delta, Digest } from './state.js';
import type { GossipTransport, PeerAddress, ReplyChannel } from './transport.js';

/** Answers kept waiting for at most; beyond that the oldest questions are forgotten. */
const MAX_OUTSTANDING = 4096;

/**
 * The mesh's sending side: encodes and signs frames, counts them, remembers the
 * nonces of questions (ping, digest) so that their answers give an RTT, and
 * splits record deltas into frames that fit.
 */
export class MeshSender {
  readonly #name: string;
  readonly #codec: FrameCodec;
  readonly #metrics: GossipMetrics;
  readonly #transport: GossipTransport;
  readonly #peers: PeerTable;
  readonly #now: () => number;
  readonly #outstanding = new Map<string, { peer: string; sentAt: number }>();

  constructor(deps: {
    name: string;
    codec: FrameCodec;
    metrics: GossipMetrics;
    transport: GossipTransport;
    peers: PeerTable;
    now: () => number;
  }) {
    this.#name = deps.name;
    this.#codec = deps.codec;
    this.#metrics = deps.metrics;
    this.#transport = deps.transport;
    this.#peers = deps.peers;
    this.#now = deps.now;
  }

  /** Sends a frame that expects an answer (ping, digest) and notes when it was asked. */
  ask(peer: PeerAddress, type: FrameType, body: object): void {
    const now = this.#now();
    const nonce = this.#codec.nonce();
    if (this.#outstanding.size > MAX_OUTSTANDING) this.#outstanding.clear();
    this.#outstanding.set(nonce, { peer: peer.name, sentAt: now });
    this.#peers.noteProbed(peer.name, now);
    this.send((data) => this.#transport.send(peer, data), type, body, nonce);
  }

  /** An answer to question `nonce` from `peer`: its RTT, once. */
  noteAnswer(peer: string, nonce: string): void {
    const asked = this.#outstanding.get(nonce);
    if (!asked || asked.peer !== peer) return;
    this.#outstanding.delete(nonce);
    const now = this.#now();
    this.#peers.noteRtt(peer, now - asked.sentAt, now);
    this.#metrics.rtt.observe((now - asked.sentAt) / 1000);
  }

  send(write: (data: string) => boolean, type: FrameType, body: object, nonce?: string): void {
    const data = this.#codec.encode(type, this.#name, body, nonce);
    if (!write(data)) return;
    this.#metrics.messages.inc({ direction: 'out', kind: type });
    this.#metrics.bytes.inc({ direction: 'out' }, Buffer.byteLength(data));
  }

  /** Sends a delta as `records` frames of at most half the frame limit each; only the first carries `want` and `re`. */
  sendDelta(to: ReplyChannel, delta: Delta, want?: Digest, re?: string, news = false): void {
    const budget = this.#codec.maxFrameBytes / 2;
    chunkDelta(delta, budget).forEach((piece, i) => {
      const body =
        i === 0
          ? encodeRecordsBody(piece, want, re, news)
          : encodeRecordsBody(piece, undefined, undefined, news);
      this.send((data) => to.send(data), 'records', body);
    });
  }

  /** The transport as a reply channel to `peer`. */
  channelTo(peer: PeerAddress): ReplyChannel {
    return { send: (data) => this.#transport.send(peer, data) };
  }
}
