import { ipFamilyOf } from '../../../common/ip.js';
import type { PeerNode, SelfNode } from '../datapath/types.js';
import { type GossipPeer, type NodeSource, planGossipMerge, sameNode } from './gossip-merge.js';

/** Where the current view came from: nothing yet, the disk cache, or a completed API list. */
export type ViewSource = 'empty' | 'cache' | 'api';

/** A consistent snapshot of the cluster as this node sees it. */
export interface ClusterView {
  /** This node; undefined until its Node object (or cache entry) is known. */
  readonly self: SelfNode | undefined;
  /** Other nodes that have at least one podCIDR, sorted by name. */
  readonly peers: readonly PeerNode[];
  /** Every known node including self and peers without a podCIDR, sorted by name. */
  readonly nodes: readonly PeerNode[];
  readonly source: ViewSource;
}

export type ChangeListener = () => void;

export interface PeerStoreOptions {
  /**
   * Whether the cluster serves IPv6 (net-conf has an IPv6 cluster CIDR); default true.
   * false: IPv6 podCIDRs and underlayIP6 are dropped from every node on arrival, whatever
   * the source (API, cache, gossip), so that an IPv4-only Weft in a dual-stack Kubernetes
   * cluster stays exactly the IPv4-only Weft it was before dual-stack.
   */
  readonly ipv6?: boolean;
}

/**
 * The agent's set of nodes, keyed by name. Writers (Node watcher, disk cache,
 * later gossip) call upsert/remove/replaceAll; every call that actually changes
 * something notifies the listeners synchronously, no-op updates notify nobody.
 * Listeners are expected to coalesce (the reconcile loop only sets a flag).
 */
export class PeerStore {
  readonly selfName: string;
  readonly #ipv6: boolean;
  readonly #nodes = new Map<string, PeerNode>();
  readonly #listeners = new Set<ChangeListener>();
  /** Names whose entry came from gossip (only while the API has not listed). */
  readonly #fromGossip = new Set<string>();
  /**
   * WireGuard public keys by node name (ADR 16): from gossip records, or from a cache or gossip
   * entry that carried one. Every node object of that name carries its key; the API has none.
   */
  readonly #wgKeys = new Map<string, string>();
  #source: ViewSource = 'empty';
  #view: ClusterView | undefined;
  #version = 0;

  constructor(selfName: string, options: PeerStoreOptions = {}) {
    this.selfName = selfName;
    this.#ipv6 = options.ipv6 ?? true;
  }

  /** Increments on every effective change; lets consumers skip work for a view they already handled. */
  get version(): number {
    return this.#version;
  }

  get source(): ViewSource {
    return this.#source;
  }

  get size(): number {
    return this.#nodes.size;
  }

  get(name: string): PeerNode | undefined {
    return this.#nodes.get(name);
  }

  /** Where the entry of `name` came from: the view's source, or `gossip`. */
  sourceOf(name: string): NodeSource | undefined {
    if (!this.#nodes.has(name)) return undefined;
    return this.#fromGossip.has(name) ? 'gossip' : this.#source;
  }

  onChange(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Adds or replaces one node; returns false (and emits nothing) when nothing changed. */
  upsert(node: PeerNode): boolean {
    const wasGossip = this.#fromGossip.delete(node.name);
    if (!this.#put(node) && !wasGossip) return false;
    this.#changed();
    return true;
  }

  remove(name: string): boolean {
    this.#fromGossip.delete(name);
    this.#wgKeys.delete(name);
    if (!this.#nodes.delete(name)) return false;
    this.#changed();
    return true;
  }

  /**
   * Replaces the whole set (after a complete API list, or when loading the disk
   * cache) and records its source; emits one change event if anything differs.
   */
  replaceAll(nodes: Iterable<PeerNode>, source: ViewSource): boolean {
    const keep = new Set<string>();
    let changed = this.#fromGossip.size > 0;
    this.#fromGossip.clear();
    for (const node of nodes) {
      keep.add(node.name);
      if (this.#put(node)) changed = true;
    }
    for (const name of [...this.#nodes.keys()]) {
      if (!keep.has(name)) {
        this.#nodes.delete(name);
        changed = true;
      }
    }
    const sourceChanged = this.#source !== source;
    this.#source = source;
    if (changed || sourceChanged) this.#changed();
    return changed;
  }

  /**
   * Merges the signed gossip view under the precedence rule of planGossipMerge:
   * only while the API has not listed, never over an API or cache entry. One
   * change event when anything changed.
   */
  syncGossip(offered: readonly GossipPeer[]): boolean {
    const current = new Map(
      [...this.#nodes].map(([name, node]) => [name, { node, source: this.sourceOf(name) as NodeSource }]),
    );
    const served = this.#ipv6 ? offered : offered.map(withoutIpv6);
    const plan = planGossipMerge(this.selfName, this.#source, current, served);
    for (const name of plan.drop) {
      this.#nodes.delete(name);
      this.#fromGossip.delete(name);
    }
    for (const node of plan.put) {
      this.#put(node);
      this.#fromGossip.add(node.name);
    }
    const changed = plan.put.length > 0 || plan.drop.length > 0;
    if (changed) this.#changed();
    return changed;
  }

  /**
   * Takes the WireGuard keys gossip records carry (name → key; undefined = the record has none)
   * for the nodes named; other names keep theirs. One change event when a node's key changed.
   */
  syncWireguardKeys(keys: ReadonlyMap<string, string | undefined>): boolean {
    let changed = false;
    for (const [name, key] of keys) {
      if (name === this.selfName || this.#wgKeys.get(name) === key) continue;
      if (key === undefined) this.#wgKeys.delete(name);
      else this.#wgKeys.set(name, key);
      const node = this.#nodes.get(name);
      if (node === undefined) continue;
      this.#nodes.set(name, this.#withKey(node));
      changed = true;
    }
    if (changed) this.#changed();
    return changed;
  }

  /** The current view; cached until the next change, so calling it often is cheap. */
  view(): ClusterView {
    if (this.#view) return this.#view;
    const nodes = [...this.#nodes.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const self = this.#nodes.get(this.selfName);
    const peers = nodes.filter((n) => n.name !== this.selfName && n.podCIDRs.length > 0);
    this.#view = { self, peers, nodes, source: this.#source };
    return this.#view;
  }

  #put(node: PeerNode): boolean {
    if (node.wgPublicKey !== undefined) this.#wgKeys.set(node.name, node.wgPublicKey);
    const next = this.#withKey(this.#ipv6 ? node : withoutIpv6(node));
    const old = this.#nodes.get(node.name);
    if (old && sameNode(old, next)) return false;
    this.#nodes.set(node.name, { ...next, podCIDRs: [...next.podCIDRs] });
    return true;
  }

  /** A new object for `node` with the key known for its name (none: no property). */
  #withKey(node: PeerNode): PeerNode {
    const key = this.#wgKeys.get(node.name);
    const base = {
      name: node.name,
      underlayIP: node.underlayIP,
      ...(node.underlayIP6 === undefined ? {} : { underlayIP6: node.underlayIP6 }),
      podCIDRs: node.podCIDRs,
    };
    return key === undefined ? base : { ...base, wgPublicKey: key };
  }

  #changed(): void {
    this.#view = undefined;
    this.#version++;
    for (const listener of [...this.#listeners]) listener();
  }
}

/** `node` as an IPv4-only cluster sees it: no IPv6 podCIDR, no underlayIP6. */
function withoutIpv6<T extends PeerNode>(node: T): T {
  return { ...node, underlayIP6: undefined, podCIDRs: node.podCIDRs.filter((c) => ipFamilyOf(c) !== 6) };
}
