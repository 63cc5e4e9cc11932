/**
 * Simulated time for the in-process gossip benchmark: a discrete-event clock.
 * Meshes take `now` and `sleep` from it, the in-process network schedules
 * deliveries on it with a latency, and `advance` runs events in time order.
 * CPU time spent handling a frame is not counted: the figures are what N
 * separate machines would see with the modelled network latency.
 */

interface TimedEvent {
  readonly at: number;
  readonly seq: number;
  readonly fire: () => void;
}

function earlier(a: TimedEvent, b: TimedEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

function immediate(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** A binary min-heap of events ordered by (at, seq). */
class EventQueue {
  readonly #heap: TimedEvent[] = [];

  get size(): number {
    return this.#heap.length;
  }

  peek(): TimedEvent | undefined {
    return this.#heap[0];
  }

  push(e: TimedEvent): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!earlier(h[i] as TimedEvent, h[p] as TimedEvent)) break;
      [h[i], h[p]] = [h[p] as TimedEvent, h[i] as TimedEvent];
      i = p;
    }
  }

  pop(): TimedEvent | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (h.length === 0 || !last) return top;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && earlier(h[l] as TimedEvent, h[m] as TimedEvent)) m = l;
      if (r < h.length && earlier(h[r] as TimedEvent, h[m] as TimedEvent)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m] as TimedEvent, h[i] as TimedEvent];
      i = m;
    }
    return top;
  }
}

export class VirtualClock {
  readonly #queue = new EventQueue();
  #now: number;
  #seq = 0;

  constructor(startMs: number) {
    this.#now = startMs;
  }

  /** Whole milliseconds, like Date.now (frames carry an integer timestamp). */
  readonly now = (): number => Math.floor(this.#now);

  /** Runs `fire` `delayMs` from now (simulated). */
  after(delayMs: number, fire: () => void): void {
    this.#queue.push({ at: this.#now + Math.max(0, delayMs), seq: this.#seq++, fire });
  }

  /** Runs `fire` at simulated time `atMs` (not before now). */
  at(atMs: number, fire: () => void): void {
    this.after(atMs - this.#now, fire);
  }

  readonly sleep = (ms: number, signal: AbortSignal): Promise<void> =>
    new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      this.after(ms, () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });

  /**
   * Runs events in time order for `ms` of simulated time, or until `stop()`
   * holds. After each event the real event loop is turned twice, so that work
   * the event started (promise continuations, setImmediate flushes) runs at
   * that simulated instant.
   */
  async advance(ms: number, stop: () => boolean = () => false): Promise<void> {
    const end = this.#now + ms;
    while (!stop()) {
      const next = this.#queue.peek();
      if (!next || next.at > end) break;
      this.#queue.pop();
      this.#now = next.at;
      next.fire();
      await immediate();
      await immediate();
    }
    if (!stop()) this.#now = Math.max(this.#now, end);
  }
}
