/** Capped exponential backoff with full jitter: delay(n) in [base/2, min(cap, base*2^n)]. */
export function backoffDelay(attempt: number, baseMs: number, capMs: number, random = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  const floor = Math.min(ceiling, baseMs / 2);
  return Math.round(floor + (ceiling - floor) * random());
}

/** Adds +/- `fraction` jitter to a period. */
export function jitter(periodMs: number, fraction = 0.1, random = Math.random): number {
  return Math.round(periodMs * (1 - fraction + 2 * fraction * random()));
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
