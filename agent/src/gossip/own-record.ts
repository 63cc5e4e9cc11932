import { type NodeRecord, newIncarnation, type OwnFields } from './record.js';

/**
 * Keeps this node's own record: a new incarnation per process start, the
 * version bumped whenever a field changes (content) and every `heartbeatMs`
 * otherwise (heartbeat), so that peers see the record advance.
 */
export class OwnRecord {
  readonly #name: string;
  readonly #heartbeatMs: number;
  #record: NodeRecord | undefined;
  #incarnation: string;
  #content = '';
  #lastBumpAt = 0;

  constructor(name: string, heartbeatMs: number, nowMs: number) {
    this.#name = name;
    this.#heartbeatMs = heartbeatMs;
    this.#incarnation = newIncarnation(nowMs);
  }

  get incarnation(): string {
    return this.#incarnation;
  }

  get current(): NodeRecord | undefined {
    return this.#record;
  }

  /**
   * Brings the record up to date with `fields`. Returns 'content' when a field
   * changed, 'heartbeat' when only the version moved, 'none' otherwise.
   */
  refresh(fields: OwnFields, nowMs: number, leaving?: { until: number }): 'content' | 'heartbeat' | 'none' {
    const content = JSON.stringify([this.#incarnation, fields, leaving ?? null]);
    const prev = this.#record;
    const version = (prev?.version ?? 0) + 1;
    if (content !== this.#content || prev === undefined) {
      this.#content = content;
      this.#lastBumpAt = nowMs;
      const base = { name: this.#name, incarnation: this.#incarnation, version, contentVersion: version };
      this.#record = leaving ? { ...base, ...fields, leaving } : { ...base, ...fields };
      return 'content';
    }
    if (nowMs - this.#lastBumpAt < this.#heartbeatMs) return 'none';
    this.#lastBumpAt = nowMs;
    this.#record = { ...prev, version };
    return 'heartbeat';
  }

  /** Someone gossips a record of ours from a later (or equal) boot: move past it. */
  supersede(other: NodeRecord, nowMs: number): void {
    this.#incarnation = newIncarnation(nowMs, other.incarnation);
  }
}
