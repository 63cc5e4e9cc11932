import type { Logger } from '../../../common/log.js';
import {
  encodeFullDigest,
  type NameIndex,
  parseDigestBody,
  parsePongBody,
  parseRecordsBody,
} from './body.js';
import { type Frame, type FrameCodec, FrameRejected, type RejectReason } from './frame.js';
import type { MeshSender } from './mesh-sender.js';
import type { GossipMetrics } from './metrics.js';
import type { OwnRecord } from './own-record.js';
import type { PeerTable } from './peer-table.js';
import type { NodeRecord } from './record.js';
import type { GossipState } from './state.js';
import type { ReplyChannel } from './transport.js';

/** What the receiving side reads and calls of its mesh. */
export interface ReceiverDeps {
  readonly name: string;
  readonly codec: FrameCodec;
  readonly metrics: GossipMetrics;
  readonly peers: PeerTable;
  readonly state: GossipState;
  readonly own: OwnRecord;
  readonly sender: MeshSender;
  readonly log: Logger;
  readonly now: () => number;
  /** The API view (name → InternalIP), undefined while every signed claim is used. */
  allowed(): ReadonlyMap<string, string> | undefined;
  nameIndex(): NameIndex;
  refreshOwn(now: number): void;
  /** A record that reached this node as news and was new to it: pass it on. */
  addNews(record: NodeRecord): void;
  emit(): void;
  reject(reason: RejectReason, peer?: string): void;
}

/**
 * The mesh's receiving side: decodes and authenticates each frame, answers
 * pings and digests, merges records (only what was new is passed on, and only
 * when it came as news), and notes RTTs of answers.
 */
export class MeshReceiver {
  readonly #d: ReceiverDeps;

  constructor(deps: ReceiverDeps) {
    this.#d = deps;
  }

  isAllowed(name: string): boolean {
    const allowed = this.#d.allowed();
    return name !== this.#d.name && (allowed === undefined || allowed.has(name));
  }

  receive(data: Buffer, from: ReplyChannel): void {
    const d = this.#d;
    d.metrics.bytes.inc({ direction: 'in' }, data.length);
    let frame: Frame;
    try {
      frame = d.codec.decode(data);
      if (!this.isAllowed(frame.sender)) throw new FrameRejected('unknown_sender', frame.sender);
      d.metrics.messages.inc({ direction: 'in', kind: frame.type });
      d.peers.noteSeen(frame.sender, d.now());
      from.bind?.(frame.sender);
      this.#dispatch(frame, from);
    } catch (err: unknown) {
      if (err instanceof FrameRejected) d.reject(err.reason);
      else {
        d.log.error({ err, op: 'receive' }, 'gossip frame handling failed');
        d.reject('malformed');
      }
    }
  }

  #dispatch(frame: Frame, from: ReplyChannel): void {
    switch (frame.type) {
      case 'ping':
        this.#d.sender.send((data) => from.send(data), 'pong', { re: frame.nonce });
        return;
      case 'pong':
        this.#d.sender.noteAnswer(frame.sender, parsePongBody(frame.body));
        return;
      case 'digest':
        this.#onDigest(frame, from);
        return;
      case 'records':
        this.#onRecords(frame, from);
        return;
    }
  }

  #onDigest(frame: Frame, from: ReplyChannel): void {
    const { state, sender } = this.#d;
    const digest = parseDigestBody(frame.body, this.#d.nameIndex());
    if (digest === 'mismatch') {
      // Our name lists differ: start the exchange from this side with a full digest.
      sender.send((data) => from.send(data), 'digest', encodeFullDigest(state.digest()));
      return;
    }
    const want = state.wantedFrom(digest, (n) => this.isAllowed(n));
    sender.sendDelta(from, state.missingFor(digest), want, frame.nonce);
  }

  #onRecords(frame: Frame, from: ReplyChannel): void {
    const d = this.#d;
    const body = parseRecordsBody(frame.body);
    if (body.re !== undefined) d.sender.noteAnswer(frame.sender, body.re);
    const now = d.now();
    const records = body.records.filter((r) => this.#acceptRecord(r, now));
    const bumps = body.bumps.filter((b) => this.isAllowed(b.name));
    const fresh = d.state.merge({ records, bumps });
    for (const b of fresh.bumps) d.peers.noteSeen(b.name, now);
    for (const r of fresh.records) {
      d.peers.noteSeen(r.name, now);
      // Only news is passed on; catch-up from anti-entropy is not rebroadcast.
      if (body.news) d.addNews(r);
    }
    if (fresh.records.length > 0) d.emit();
    if (body.want.size > 0) d.sender.sendDelta(from, d.state.missingFor(body.want, 'listed'));
  }

  #acceptRecord(r: NodeRecord, now: number): boolean {
    const d = this.#d;
    if (r.name === d.name) {
      const mine = d.own.current;
      if (mine && r.incarnation >= mine.incarnation && r !== mine && r.version >= 1) {
        if (r.incarnation > mine.incarnation || r.version > mine.version) {
          d.log.warn({ node: r.name, op: 'merge' }, 'newer record of this node in gossip, moving past it');
          d.own.supersede(r, now);
          d.refreshOwn(now);
        }
      }
      return false;
    }
    const allowed = d.allowed();
    if (allowed !== undefined && allowed.get(r.name) !== r.underlayIP) {
      d.reject('unknown_peer', r.name);
      return false;
    }
    return true;
  }
}
