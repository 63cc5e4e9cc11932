import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { backoffDelay } from '../../../common/backoff.js';
import type { Logger } from '../../../common/log.js';
import type { GossipTransport, PeerAddress, ReplyChannel, TransportHandlers } from './transport.js';

export interface WsTransportOptions {
  readonly host: string;
  readonly port: number;
  readonly maxFrameBytes: number;
  readonly log: Logger;
  /** Frames queued per peer while connecting; the oldest is dropped beyond. */
  readonly maxQueue?: number;
  /** A peer whose socket buffers more than this is too slow: its connection is closed. */
  readonly maxBufferedBytes?: number;
  /** Outbound connections kept open at most; the least recently used one is closed. */
  readonly maxOutbound?: number;
  readonly maxInbound?: number;
  /** Outbound connections unused for this long are closed. */
  readonly idleCloseMs?: number;
  readonly dialBackoffMs?: { readonly base: number; readonly cap: number };
  readonly now?: () => number;
}

interface Outbound {
  address: string;
  ws: WebSocket | undefined;
  queue: string[];
  attempt: number;
  nextDialAt: number;
  lastUsed: number;
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** WebSocket transport: one server, one outbound socket per peer, dialled on demand. */
export class WsTransport implements GossipTransport {
  readonly #o: Required<Omit<WsTransportOptions, 'log' | 'now'>>;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #out = new Map<string, Outbound>();
  readonly #inbound = new Set<WebSocket>();
  /** Inbound sockets by the authenticated name of the peer that dialled them. */
  readonly #inboundByPeer = new Map<string, WebSocket>();
  #server: WebSocketServer | undefined;
  #handlers: TransportHandlers | undefined;
  #sweep: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(opts: WsTransportOptions) {
    this.#log = opts.log;
    this.#now = opts.now ?? Date.now;
    this.#o = {
      host: opts.host,
      port: opts.port,
      maxFrameBytes: opts.maxFrameBytes,
      maxQueue: opts.maxQueue ?? 64,
      maxBufferedBytes: opts.maxBufferedBytes ?? 4 * opts.maxFrameBytes,
      maxOutbound: opts.maxOutbound ?? 128,
      maxInbound: opts.maxInbound ?? 1024,
      idleCloseMs: opts.idleCloseMs ?? 60_000,
      dialBackoffMs: opts.dialBackoffMs ?? { base: 200, cap: 30_000 },
    };
  }

  async start(handlers: TransportHandlers): Promise<{ port: number }> {
    this.#handlers = handlers;
    const server = new WebSocketServer({
      host: this.#o.host,
      port: this.#o.port,
      maxPayload: this.#o.maxFrameBytes,
      perMessageDeflate: false,
    });
    this.#server = server;
    server.on('connection', (ws) => this.#accept(ws));
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    server.on('error', (err) => this.#log.warn({ err, op: 'listen' }, 'gossip server error'));
    this.#sweep = setInterval(() => this.#closeIdle(), Math.max(250, this.#o.idleCloseMs / 2));
    this.#sweep.unref();
    const addr = server.address();
    return { port: typeof addr === 'object' && addr ? addr.port : this.#o.port };
  }

  #accept(ws: WebSocket): void {
    if (this.#closed || this.#inbound.size >= this.#o.maxInbound) {
      ws.terminate();
      return;
    }
    this.#inbound.add(ws);
    let boundTo: string | undefined;
    ws.on('close', () => {
      this.#inbound.delete(ws);
      if (boundTo !== undefined && this.#inboundByPeer.get(boundTo) === ws)
        this.#inboundByPeer.delete(boundTo);
    });
    this.#wire(ws, (name) => {
      if (boundTo !== undefined && this.#inboundByPeer.get(boundTo) === ws)
        this.#inboundByPeer.delete(boundTo);
      boundTo = name;
      this.#inboundByPeer.set(name, ws);
    });
  }

  /** Message and error handling shared by inbound and outbound sockets. */
  #wire(ws: WebSocket, bind?: (peerName: string) => void): void {
    const reply: ReplyChannel = { send: (data) => this.#write(ws, data) };
    if (bind) reply.bind = bind;
    ws.on('message', (data) => {
      try {
        this.#handlers?.onMessage(toBuffer(data), reply);
      } catch (err: unknown) {
        this.#log.error({ err, op: 'receive' }, 'gossip handler threw');
      }
    });
    ws.on('error', (err: Error & { code?: string }) => {
      const oversized = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';
      if (oversized || err.code?.startsWith('WS_ERR_'))
        this.#handlers?.onReject(oversized ? 'oversized' : 'malformed');
      this.#log.debug({ err, op: 'socket' }, 'gossip socket error');
    });
  }

  #write(ws: WebSocket, data: string): boolean {
    if (ws.readyState !== WebSocket.OPEN) return false;
    if (ws.bufferedAmount > this.#o.maxBufferedBytes) {
      this.#log.warn({ op: 'send' }, 'gossip peer too slow, closing its connection');
      ws.terminate();
      return false;
    }
    ws.send(data);
    return true;
  }

  send(peer: PeerAddress, data: string): boolean {
    if (this.#closed) return false;
    const now = this.#now();
    let out = this.#out.get(peer.name);
    if (out && out.address !== peer.address) {
      out.ws?.terminate();
      out = undefined;
    }
    if (!out) {
      this.#evictForNew();
      out = { address: peer.address, ws: undefined, queue: [], attempt: 0, nextDialAt: 0, lastUsed: now };
      this.#out.set(peer.name, out);
    }
    out.lastUsed = now;
    if (out.ws?.readyState === WebSocket.OPEN) return this.#write(out.ws, data);
    const inbound = this.#inboundByPeer.get(peer.name);
    if (!out.ws && inbound?.readyState === WebSocket.OPEN) return this.#write(inbound, data);
    if (!out.ws) {
      if (now < out.nextDialAt) return false;
      this.#dial(out);
    }
    out.queue.push(data);
    if (out.queue.length > this.#o.maxQueue) out.queue.shift();
    return true;
  }

  #dial(out: Outbound): void {
    const ws = new WebSocket(`ws://${out.address}/`, {
      maxPayload: this.#o.maxFrameBytes,
      perMessageDeflate: false,
      handshakeTimeout: 5000,
    });
    out.ws = ws;
    this.#wire(ws);
    ws.on('open', () => {
      out.attempt = 0;
      for (const data of out.queue.splice(0)) this.#write(ws, data);
    });
    ws.on('close', () => {
      if (out.ws !== ws) return;
      out.ws = undefined;
      out.queue = [];
      out.attempt++;
      const { base, cap } = this.#o.dialBackoffMs;
      out.nextDialAt = this.#now() + backoffDelay(out.attempt - 1, base, cap);
    });
  }

  #evictForNew(): void {
    if (this.#out.size < this.#o.maxOutbound) return;
    let oldest: [string, Outbound] | undefined;
    for (const entry of this.#out) if (!oldest || entry[1].lastUsed < oldest[1].lastUsed) oldest = entry;
    if (!oldest) return;
    oldest[1].ws?.close();
    this.#out.delete(oldest[0]);
  }

  #closeIdle(): void {
    const cutoff = this.#now() - this.#o.idleCloseMs;
    for (const [name, out] of this.#out) {
      if (out.lastUsed >= cutoff) continue;
      out.ws?.close();
      this.#out.delete(name);
    }
  }

  pending(): number {
    let n = 0;
    for (const out of this.#out.values()) n += out.queue.length + (out.ws?.bufferedAmount ? 1 : 0);
    return n;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sweep) clearInterval(this.#sweep);
    for (const out of this.#out.values()) out.ws?.terminate();
    this.#out.clear();
    for (const ws of this.#inbound) ws.terminate();
    const server = this.#server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
