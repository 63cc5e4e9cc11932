import type { GossipTransport, PeerAddress, ReplyChannel, TransportHandlers } from './transport.js';

export interface MemoryNetworkOptions {
  /**
   * Runs a delivery later. Default: the next macrotask (setImmediate). A
   * benchmark with simulated time schedules it on its clock, with a latency.
   * Deliveries from one sender to one receiver must keep their order.
   */
  readonly schedule?: (deliver: () => void, from: string, to: string) => void;
}

/**
 * An in-process network of gossip endpoints, for benchmarks with many nodes.
 * Delivery is asynchronous (next macrotask by default) and in order per sender, like a socket.
 */
export class MemoryNetwork {
  readonly #endpoints = new Map<string, TransportHandlers>();
  readonly #schedule: (deliver: () => void, from: string, to: string) => void;
  #nextPort = 1;

  constructor(opts: MemoryNetworkOptions = {}) {
    this.#schedule = opts.schedule ?? ((deliver) => setImmediate(deliver));
  }

  transport(host = 'mem'): GossipTransport {
    return new MemoryTransport(this, host);
  }

  /** @internal */
  register(address: string, handlers: TransportHandlers): void {
    this.#endpoints.set(address, handlers);
  }

  /** @internal */
  unregister(address: string): void {
    this.#endpoints.delete(address);
  }

  /** @internal */
  allocatePort(): number {
    return this.#nextPort++;
  }

  /** @internal */
  deliver(to: string, from: string, data: string): boolean {
    const target = this.#endpoints.get(to);
    if (!target) return false;
    const reply: ReplyChannel = { send: (back) => this.deliver(from, to, back) };
    this.#schedule(() => target.onMessage(Buffer.from(data), reply), from, to);
    return true;
  }
}

class MemoryTransport implements GossipTransport {
  readonly #net: MemoryNetwork;
  readonly #host: string;
  #address = '';
  #open = false;

  constructor(net: MemoryNetwork, host: string) {
    this.#net = net;
    this.#host = host;
  }

  async start(handlers: TransportHandlers): Promise<{ port: number }> {
    const port = this.#net.allocatePort();
    this.#address = `${this.#host}:${port}`;
    this.#net.register(this.#address, handlers);
    this.#open = true;
    return { port };
  }

  send(peer: PeerAddress, data: string): boolean {
    if (!this.#open) return false;
    return this.#net.deliver(peer.address, this.#address, data);
  }

  pending(): number {
    return 0;
  }

  async close(): Promise<void> {
    this.#open = false;
    this.#net.unregister(this.#address);
  }
}
