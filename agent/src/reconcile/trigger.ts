/**
 * A coalescing wake-up flag: any number of fire() calls between two waits
 * collapse into one wake-up. wait() resolves true when fired, false on timeout
 * or abort, so a loop can tell an event from its periodic tick.
 */
export class Trigger {
  #pending = false;
  #wake: (() => void) | undefined;

  fire(): void {
    this.#pending = true;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  get pending(): boolean {
    return this.#pending;
  }

  /** Waits for a fire (consuming it), at most `timeoutMs`, or until the signal aborts. */
  wait(timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    if (this.#pending || signal.aborted) return Promise.resolve(this.#consume());
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.#wake = undefined;
        resolve(this.#consume());
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      signal.addEventListener('abort', done, { once: true });
      this.#wake = done;
    });
  }

  #consume(): boolean {
    const fired = this.#pending;
    this.#pending = false;
    return fired;
  }
}
