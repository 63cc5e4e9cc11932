import { jitter, sleep } from '../../../common/backoff.js';
import { formatHostPort } from '../../../common/ip.js';
import type { Logger } from '../../../common/log.js';
import { computeNameIndex, encodeCompactDigest, type NameIndex } from './body.js';
import { FrameCodec, MAX_FRAME_BYTES, type RejectReason } from './frame.js';
import { computeFanout, pickRandom } from './liveness.js';
import { MeshReceiver } from './mesh-receiver.js';
import { MeshSender } from './mesh-sender.js';
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
import { type Delta, GossipState } from './state.js';
import type { GossipTransport, PeerAddress } from './transport.js';
import { WsTransport } from './ws-transport.js';

/**
 * An authenticated gossip mesh: each round it exchanges a digest with one
 * random peer (push-pull anti-entropy: only missing records travel), pings the
 * peer with the stalest RTT, and pushes news (own changes, and records that
 * reached it as news and were new to it) to ceil(log2 N)+1 random peers. See docs/adr/0002-gossip.md.
 * Sending is MeshSender's, receiving MeshReceiver's; this class runs the rounds
 * and owns the membership state, the own record and the news queue.
 */
export class GossipMesh {
  readonly name: string;
  readonly #o: GossipMeshOptions;
  readonly #t: GossipTiming;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #metrics: GossipMetrics;
  readonly #transport: GossipTransport;
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly #state: GossipState;
  readonly #peers: PeerTable;
  readonly #own: OwnRecord;
  readonly #news = new Map<string, NodeRecord>();
  readonly #sender: MeshSender;
  readonly #receiver: MeshReceiver;
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
    const codec = new FrameCodec({
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
    const { name } = opts;
    const [metrics, peers, now] = [this.#metrics, this.#peers, this.#now];
    this.#sender = new MeshSender({ name, codec, metrics, transport: this.#transport, peers, now });
    this.#receiver = new MeshReceiver({
      name,
      codec,
      metrics,
      peers,
      state: this.#state,
      own: this.#own,
      sender: this.#sender,
      log: this.#log,
      now,
      allowed: () => this.#allowed,
      nameIndex: () => this.#nameIndex(),
      refreshOwn: (at) => this.#refreshOwn(at),
      addNews: (record) => {
        this.#news.set(record.name, record);
        this.#scheduleFlush();
      },
      emit: () => this.#emit(),
      reject: (reason, peer) => this.#reject(reason, peer),
    });
  }

  /** Starts listening and the round loop; resolves with the bound port. Abort `signal` to stop. */
  async start(signal: AbortSignal): Promise<{ port: number }> {
    const { port } = await this.#transport.start({
      onMessage: (data, from) => this.#receiver.receive(data, from),
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
      byName.set(r.name, { name: r.name, address: formatHostPort(r.underlayIP, r.gossipPort) });
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
    if (stalest) this.#sender.ask(stalest, 'ping', {});
  }

  #nameIndex(): NameIndex {
    const version = this.#state.membershipVersion;
    if (this.#index?.version !== version)
      this.#index = { version, index: computeNameIndex(this.#state.members()) };
    return this.#index.index;
  }

  #sendDigest(peer: PeerAddress): void {
    const versionOf = (name: string): number => this.#state.get(name)?.version ?? 0;
    this.#sender.ask(peer, 'digest', encodeCompactDigest(versionOf, this.#nameIndex()));
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
      this.#sender.sendDelta(this.#sender.channelTo(peer), delta, undefined, undefined, true);
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
}
