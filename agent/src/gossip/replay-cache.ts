/**
 * Remembers (sender, nonce) pairs until they expire, in a bounded map. When
 * full, the oldest entry goes first; frames older than the timestamp window
 * are refused anyway, so the cache only has to cover that window.
 */
export class ReplayCache {
  readonly #seen = new Map<string, number>();
  readonly #capacity: number;
  readonly #ttlMs: number;

  constructor(capacity: number, ttlMs: number) {
    this.#capacity = capacity;
    this.#ttlMs = ttlMs;
  }

  get size(): number {
    return this.#seen.size;
  }

  /** Records the pair; false if it was already seen and not yet expired. */
  remember(key: string, nowMs: number): boolean {
    this.#evictExpired(nowMs);
    const expiry = this.#seen.get(key);
    if (expiry !== undefined && expiry > nowMs) return false;
    if (this.#seen.size >= this.#capacity) {
      const oldest = this.#seen.keys().next();
      if (!oldest.done) this.#seen.delete(oldest.value);
    }
    this.#seen.set(key, nowMs + this.#ttlMs);
    return true;
  }

  #evictExpired(nowMs: number): void {
    // Insertion order is expiry order (constant TTL), so stop at the first live one.
    for (const [key, expiry] of this.#seen) {
      if (expiry > nowMs) return;
      this.#seen.delete(key);
    }
  }
}
