import { jitter, sleep } from '../../../common/backoff.js';
import type { Logger } from '../../../common/log.js';
import {
  computeNameIndex,
  encodeCompactDigest,
  encodeFullDigest,
  encodeRecordsBody,
  type NameIndex,
  parseDigestBody,
  parsePongBody,
  parseRecordsBody,
} from './body.js';
import { chunkDelta } from './chunk.js';
import {
  type Frame,
  FrameCodec,
  FrameRejected,
  type FrameType,
  MAX_FRAME_BYTES,
  type RejectReason,
} from './frame.js';
import { computeFanout, pickRandom } from './liveness.js';
import { createGossipMetrics, type GossipMetrics } from './metrics.js';
import {
  DEFAULT_TIMING,
  type GossipMeshOptions,
  type GossipTiming,
  type MeshView,
  type PeerView,
} from './options.js';
import { OwnRecord } from './own-record.js';
import { PeerTable } from './peer-table.js';
import { type NodeRecord, quantizeRtt, stickyRtt } from './record.js';
import { type Delta, type Digest, GossipState } from './state.js';
import type { GossipTransport, PeerAddress, ReplyChannel } from './transport.js';
import { WsTransport } from './ws-transport.js';

/**
 * An authenticated gossip mesh: each round it exchanges a digest with one
 * random peer (push-pull anti-entropy: only missing records travel), pings the
 * peer with the stalest RTT, and pushes news (own changes, and records that
 * reached it as news and were new to it) to ceil(log2 N)+1 random peers. See docs/adr/0002-gossip.md.
 */
export class GossipMesh {
  readonly name: string;
  readonly #o: GossipMeshOptions;
  readonly #t: GossipTiming;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #codec: FrameCodec;
  readonly #metrics: GossipMetrics;
  readonly #transport: GossipTransport;
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly #state: GossipState;
  readonly #peers: PeerTable;
  readonly #own: OwnRecord;
  readonly #news = new Map<string, NodeRecord>();
  readonly #outstanding = new Map<string, { peer: string; sentAt: number }>();
  readonly #listeners = new Set<() => void>();
  readonly #stop = new AbortController();
  #allowed: ReadonlyMap<string, string> | undefined;
  #index: { version: number; index: NameIndex } | undefined;
  #reachability: Record<string, number | null> = {};
  #reachabilityAt = Number.NEGATIVE_INFINITY;
  #leaving: { until: number } | undefined;
  #port = 0;
  #flushScheduled = false;
  #newsKey = '';
  #loop: Promise<void> | undefined;

  constructor(opts: GossipMeshOptions) {
    this.name = opts.name;
    this.#o = opts;
    this.#t = { ...DEFAULT_TIMING, ...opts.timing };
    this.#log = opts.log.child({ component: 'gossip' });
    this.#now = opts.now ?? Date.now;
    this.#random = opts.random ?? Math.random;
    this.#sleep = opts.sleep ?? sleep;
    this.#state = new GossipState([...(opts.initialRecords ?? [])].filter((r) => r.name !== opts.name));
    const maxFrameBytes = opts.maxFrameBytes ?? MAX_FRAME_BYTES;
    this.#codec = new FrameCodec({
      key: opts.key,
      maxFrameBytes,
      windowMs: this.#t.clockWindowMs,
      now: this.#now,
    });
    this.#metrics = createGossipMetrics(opts.registry);
    this.#transport =
      opts.transport ?? new WsTransport({ ...opts.listen, maxFrameBytes, log: this.#log, now: this.#now });
    this.#peers = new PeerTable(this.#t);
    this.#own = new OwnRecord(opts.name, this.#t.heartbeatMs, this.#now());
  }

  /** Starts listening and the round loop; resolves with the bound port. Abort `signal` to stop. */
  async start(signal: AbortSignal): Promise<{ port: number }> {
    const { port } = await this.#transport.start({
      onMessage: (data, from) => this.#receive(data, from),
      onReject: (reason) => this.#reject(reason),
    });
    this.#port = this.#o.advertisePort ?? port;
    this.#refreshOwn(this.#now());
    signal.addEventListener('abort', () => void this.close(), { once: true });
    this.#loop = this.#run(AbortSignal.any([signal, this.#stop.signal]));
    return { port };
  }

  /**
   * The API view of the cluster: name → InternalIP. Claims about other names,
   * or with another underlay IP, are dropped. `undefined` while the API view is
   * unavailable: then every authenticated claim is used (the signed gossip view).
   */
  setAllowedPeers(peers: ReadonlyMap<string, string> | undefined): void {
    this.#allowed = peers;
    if (!peers) return;
    let changed = false;
    for (const r of this.#state.records()) {
      if (r.name === this.name || peers.get(r.name) === r.underlayIP) continue;
      this.#state.delete(r.name);
      this.#peers.delete(r.name);
      changed = true;
    }
    if (changed) this.#emit();
  }

  /** Re-reads `self()` now instead of at the next round (call it when a field changed). */
  refreshSelf(): void {
    this.#refreshOwn(this.#now());
  }

  view(): MeshView {
    const peers: PeerView[] = [];
    for (const record of this.#state.records()) {
      if (record.name === this.name) continue;
      const p = this.#peers.get(record.name);
      peers.push({
        name: record.name,
        state: p?.state ?? 'alive',
        record,
        lastSeenAt: p?.lastSeenAt ?? 0,
        rttMs: p?.rttMs ?? null,
      });
    }
    peers.sort((a, b) => (a.name < b.name ? -1 : 1));
    return { self: this.#own.current, peers };
  }

  /** Calls `cb` when a peer's record content or state changes; returns an unsubscribe. */
  onChange(cb: () => void): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  /** Publishes a tombstone for this node and gives it up to `waitMs` to leave. */
  async leave(waitMs = 1000): Promise<void> {
    const now = this.#now();
    this.#leaving = { until: now + this.#t.tombstoneTtlMs };
    this.#refreshOwn(now);
    this.#pushNews();
    const candidates = this.#candidates();
    for (const peer of pickRandom(candidates, computeFanout(candidates.length + 1), this.#random)) {
      this.#sendDigest(peer);
    }
    const deadline = Date.now() + waitMs;
    while (this.#transport.pending() > 0 && Date.now() < deadline) await sleep(20);
  }

  async close(): Promise<void> {
    this.#stop.abort();
    await this.#transport.close();
    await this.#loop;
  }

  async #run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const end = this.#metrics.roundDuration.startTimer();
      try {
        this.round();
      } catch (err: unknown) {
        this.#metrics.roundErrors.inc();
        this.#log.error({ err, op: 'round' }, 'gossip round failed');
      }
      end();
      await this.#sleep(jitter(this.#t.intervalMs, 0.1, this.#random), signal).catch(() => undefined);
    }
  }

  /** One gossip round (public for tests that drive rounds by hand). */
  round(): void {
    const now = this.#now();
    this.#refreshOwn(now);
    for (const name of this.#state.expireTombstones(now)) this.#peers.delete(name);
    const names = this.#state.names().filter((n) => n !== this.name);
    const { changed, counts } = this.#peers.evaluate(now, names, (n) => !!this.#state.get(n)?.leaving);
    for (const [state, n] of Object.entries(counts)) this.#metrics.peers.set({ state }, n);
    if (changed) this.#emit();
    const candidates = this.#candidates();
    const live = candidates.filter((p) => this.#peers.get(p.name)?.state !== 'dead');
    for (const peer of pickRandom(live.length > 0 ? live : candidates, 1, this.#random))
      this.#sendDigest(peer);
    this.#pingStalest(candidates, now);
  }

  #refreshOwn(now: number): void {
    if (now - this.#reachabilityAt >= this.#t.reachabilityPublishMs) {
      this.#reachabilityAt = now;
      this.#reachability = this.#computeReachability();
    }
    const fields = { ...this.#o.self(), gossipPort: this.#port, reachability: this.#reachability };
    const change = this.#own.refresh(fields, now, this.#leaving);
    const record = this.#own.current;
    if (change === 'none' || !record) return;
    this.#state.put(record);
    // A change of reachability alone is not pushed as news: it reaches every
    // node once through anti-entropy within a few rounds, instead of fan-out
    // copies of a record that grows with the cluster (see ADR 0002).
    const { reachability: _, ...rest } = fields;
    const newsKey = JSON.stringify([record.incarnation, rest, this.#leaving ?? null]);
    if (change === 'content' && newsKey !== this.#newsKey) {
      this.#newsKey = newsKey;
      this.#news.set(record.name, record);
      this.#scheduleFlush();
    }
  }

  #computeReachability(): Record<string, number | null> {
    const out: Record<string, number | null> = {};
    for (const name of this.#state.names().sort()) {
      const p = this.#peers.get(name);
      if (name === this.name || !p || (p.rttMs === null && p.state === 'alive')) continue;
      out[name] = p.state === 'dead' ? null : stickyRtt(this.#reachability[name], quantizeRtt(p.rttMs));
    }
    return out;
  }

  /** Peers to talk to: the seeds (API view) first, then addresses learned from records. */
  #candidates(): PeerAddress[] {
    const byName = new Map<string, PeerAddress>();
    for (const s of this.#o.seeds()) if (s.name !== this.name) byName.set(s.name, s);
    for (const r of this.#state.records()) {
      if (r.name === this.name || r.leaving || byName.has(r.name)) continue;
      byName.set(r.name, { name: r.name, address: `${r.underlayIP}:${r.gossipPort}` });
    }
    return [...byName.values()];
  }

  #pingStalest(candidates: readonly PeerAddress[], now: number): void {
    let stalest: PeerAddress | undefined;
    let stalestAt = now - this.#t.rttRefreshMs;
    for (const c of candidates) {
      const p = this.#peers.get(c.name);
      const at = Math.max(p?.rttAt ?? 0, p?.probedAt ?? 0);
      if (at < stalestAt) [stalest, stalestAt] = [c, at];
    }
    if (stalest) this.#sendExpectingAnswer(stalest, 'ping', {});
  }

  #nameIndex(): NameIndex {
    const version = this.#state.membershipVersion;
    if (this.#index?.version !== version)
      this.#index = { version, index: computeNameIndex(this.#state.members()) };
    return this.#index.index;
  }

  #sendDigest(peer: PeerAddress): void {
    const versionOf = (name: string): number => this.#state.get(name)?.version ?? 0;
    this.#sendExpectingAnswer(peer, 'digest', encodeCompactDigest(versionOf, this.#nameIndex()));
  }

  #sendExpectingAnswer(peer: PeerAddress, type: FrameType, body: object): void {
    const now = this.#now();
    const nonce = this.#codec.nonce();
    if (this.#outstanding.size > 4096) this.#outstanding.clear();
    this.#outstanding.set(nonce, { peer: peer.name, sentAt: now });
    this.#peers.noteProbed(peer.name, now);
    this.#send((data) => this.#transport.send(peer, data), type, body, nonce);
  }

  #send(write: (data: string) => boolean, type: FrameType, body: object, nonce?: string): void {
    const data = this.#codec.encode(type, this.name, body, nonce);
    if (!write(data)) return;
    this.#metrics.messages.inc({ direction: 'out', kind: type });
    this.#metrics.bytes.inc({ direction: 'out' }, Buffer.byteLength(data));
  }

  #sendDelta(to: ReplyChannel, delta: Delta, want?: Digest, re?: string, news = false): void {
    const budget = this.#codec.maxFrameBytes / 2;
    chunkDelta(delta, budget).forEach((piece, i) => {
      const body =
        i === 0
          ? encodeRecordsBody(piece, want, re, news)
          : encodeRecordsBody(piece, undefined, undefined, news);
      this.#send((data) => to.send(data), 'records', body);
    });
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      if (!this.#stop.signal.aborted) this.#pushNews();
    });
  }

  /** Sends what was new to this node to a fan-out of random peers, once. */
  #pushNews(): void {
    if (this.#news.size === 0) return;
    const delta: Delta = { records: [...this.#news.values()], bumps: [] };
    this.#news.clear();
    const candidates = this.#candidates().filter((p) => this.#peers.get(p.name)?.state !== 'dead');
    for (const peer of pickRandom(candidates, computeFanout(candidates.length + 1), this.#random)) {
      this.#sendDelta(
        { send: (data) => this.#transport.send(peer, data) },
        delta,
        undefined,
        undefined,
        true,
      );
    }
  }

  #emit(): void {
    for (const cb of this.#listeners) {
      try {
        cb();
      } catch (err: unknown) {
        this.#log.error({ err, op: 'onChange' }, 'gossip change listener threw');
      }
    }
  }

  #reject(reason: RejectReason, peer?: string): void {
    this.#metrics.rejected.inc({ reason });
    this.#log.debug({ peer, op: 'receive', reason }, 'gossip frame rejected');
  }

  #isAllowed(name: string): boolean {
    return name !== this.name && (this.#allowed === undefined || this.#allowed.has(name));
  }

  #receive(data: Buffer, from: ReplyChannel): void {
    this.#metrics.bytes.inc({ direction: 'in' }, data.length);
    let frame: Frame;
    try {
      frame = this.#codec.decode(data);
      if (!this.#isAllowed(frame.sender)) throw new FrameRejected('unknown_sender', frame.sender);
      this.#metrics.messages.inc({ direction: 'in', kind: frame.type });
      this.#peers.noteSeen(frame.sender, this.#now());
      from.bind?.(frame.sender);
      this.#dispatch(frame, from);
    } catch (err: unknown) {
      if (err instanceof FrameRejected) this.#reject(err.reason);
      else {
        this.#log.error({ err, op: 'receive' }, 'gossip frame handling failed');
        this.#reject('malformed');
      }
    }
  }

  #dispatch(frame: Frame, from: ReplyChannel): void {
    switch (frame.type) {
      case 'ping':
        this.#send((d) => from.send(d), 'pong', { re: frame.nonce });
        return;
      case 'pong':
        this.#noteAnswer(frame.sender, parsePongBody(frame.body));
        return;
      case 'digest':
        this.#onDigest(frame, from);
        return;
      case 'records':
        this.#onRecords(frame, from);
        return;
    }
  }

  #noteAnswer(peer: string, nonce: string): void {
    const asked = this.#outstanding.get(nonce);
    if (!asked || asked.peer !== peer) return;
    this.#outstanding.delete(nonce);
    const now = this.#now();
    this.#peers.noteRtt(peer, now - asked.sentAt, now);
    this.#metrics.rtt.observe((now - asked.sentAt) / 1000);
  }

  #onDigest(frame: Frame, from: ReplyChannel): void {
    const digest = parseDigestBody(frame.body, this.#nameIndex());
    if (digest === 'mismatch') {
      // Our name lists differ: start the exchange from this side with a full digest.
      this.#send((d) => from.send(d), 'digest', encodeFullDigest(this.#state.digest()));
      return;
    }
    const want = this.#state.wantedFrom(digest, (n) => this.#isAllowed(n));
    this.#sendDelta(from, this.#state.missingFor(digest), want, frame.nonce);
  }

  #onRecords(frame: Frame, from: ReplyChannel): void {
    const body = parseRecordsBody(frame.body);
    if (body.re !== undefined) this.#noteAnswer(frame.sender, body.re);
    const now = this.#now();
    const records = body.records.filter((r) => this.#acceptRecord(r, now));
    const bumps = body.bumps.filter((b) => this.#isAllowed(b.name));
    const fresh = this.#state.merge({ records, bumps });
    for (const b of fresh.bumps) this.#peers.noteSeen(b.name, now);
    for (const r of fresh.records) {
      this.#peers.noteSeen(r.name, now);
      // Only news is passed on; catch-up from anti-entropy is not rebroadcast.
      if (body.news) this.#news.set(r.name, r);
    }
    if (fresh.records.length > 0) {
      if (body.news) this.#scheduleFlush();
      this.#emit();
    }
    if (body.want.size > 0) this.#sendDelta(from, this.#state.missingFor(body.want, 'listed'));
  }

  #acceptRecord(r: NodeRecord, now: number): boolean {
    if (r.name === this.name) {
      const mine = this.#own.current;
      if (mine && r.incarnation >= mine.incarnation && r !== mine && r.version >= 1) {
        if (r.incarnation > mine.incarnation || r.version > mine.version) {
          this.#log.warn(
            { node: r.name, op: 'merge' },
            'newer record of this node in gossip, moving past it',
          );
          this.#own.supersede(r, now);
          this.#refreshOwn(now);
        }
      }
      return false;
    }
    if (this.#allowed !== undefined && this.#allowed.get(r.name) !== r.underlayIP) {
      this.#reject('unknown_peer', r.name);
      return false;
    }
    return true;
  }
}
