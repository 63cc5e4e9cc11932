import type { NetworkPolicy, PolicyNamespace, PolicyPod } from './types.js';

export type PolicyKind = 'pods' | 'namespaces' | 'networkpolicies';
export const POLICY_KINDS: readonly PolicyKind[] = ['pods', 'namespaces', 'networkpolicies'];

interface Kinds {
  pods: PolicyPod;
  namespaces: PolicyNamespace;
  networkpolicies: NetworkPolicy;
}

/**
 * What the policy watchers learnt: pods, namespaces and policies by key, and
 * whether each kind has been listed completely once. Emits a change only when
 * something changed.
 */
export class PolicyStore {
  readonly pods = new Map<string, PolicyPod>();
  readonly namespaces = new Map<string, PolicyNamespace>();
  readonly policies = new Map<string, NetworkPolicy>();
  readonly #listed = new Set<PolicyKind>();
  readonly #listeners = new Set<() => void>();

  /** True once every kind has been listed: only then is the compiled result complete. */
  get synced(): boolean {
    return this.#listed.size === POLICY_KINDS.length;
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #map<K extends PolicyKind>(kind: K): Map<string, Kinds[K]> {
    return (kind === 'pods' ? this.pods : kind === 'namespaces' ? this.namespaces : this.policies) as Map<
      string,
      Kinds[K]
    >;
  }

  /** A complete list of one kind replaces what was known of it. */
  replaceAll<K extends PolicyKind>(kind: K, items: ReadonlyMap<string, Kinds[K]>): void {
    const map = this.#map(kind);
    const first = !this.#listed.has(kind);
    this.#listed.add(kind);
    const same =
      map.size === items.size &&
      [...items].every(([k, v]) => JSON.stringify(map.get(k)) === JSON.stringify(v));
    if (same && !first) return;
    map.clear();
    for (const [k, v] of items) map.set(k, v);
    this.#emit();
  }

  upsert<K extends PolicyKind>(kind: K, key: string, item: Kinds[K]): void {
    const map = this.#map(kind);
    if (JSON.stringify(map.get(key)) === JSON.stringify(item)) return;
    map.set(key, item);
    this.#emit();
  }

  remove(kind: PolicyKind, key: string): void {
    if (this.#map(kind).delete(key)) this.#emit();
  }

  #emit(): void {
    for (const l of [...this.#listeners]) l();
  }
}
