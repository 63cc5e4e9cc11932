import { type IpFamily, ipFamilyOf } from '../../../common/ip.js';
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
   * The families the cluster serves (net-conf clusterFamilies); default both. A family not
   * listed is dropped from every node on arrival, whatever the source (API, cache, gossip):
   * without 6, IPv6 podCIDRs and underlayIP6, so that an IPv4-only Weft in a dual-stack
   * Kubernetes cluster stays exactly the IPv4-only Weft it was before dual-stack; without 4
   * (IPv6-only), IPv4 podCIDRs.
   */
  readonly families?: readonly IpFamily[];
  /**
   * The family of every node's underlayIP (net-conf underlayFamily); default: either. A node
   * whose underlayIP is of the other family (a mixed cluster, not supported: a record from a
   * cache or gossip of another cluster shape) is left out and reported once to onRefused.
   */
  readonly underlayFamily?: IpFamily;
  /** Called once per node and reason when a node is left out (the reason names the field). */
  readonly onRefused?: (node: PeerNode, reason: string) => void;
}

/**
 * The agent's set of nodes, keyed by name. Writers (Node watcher, disk cache,
 * later gossip) call upsert/remove/replaceAll; every call that actually changes
 * something notifies the listeners synchronously, no-op updates notify nobody.
 * Listeners are expected to coalesce (the reconcile loop only sets a flag).
 */
export class PeerStore {
  readonly selfName: string;
  readonly #families: ReadonlySet<IpFamily>;
  readonly #underlayFamily: IpFamily | undefined;
  readonly #onRefused: ((node: PeerNode, reason: string) => void) | undefined;
  /** Reason last reported per refused node name (reported again only when it changes). */
  readonly #refused = new Map<string, string>();
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
    this.#families = new Set(options.families ?? [4, 6]);
    this.#underlayFamily = options.underlayFamily;
    this.#onRefused = options.onRefused;
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
    const served = offered.filter((p) => this.#accepts(p)).map((p) => this.#served(p));
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

  /** Stores `node` as served; a refused one removes the entry of its name (true if there was one). */
  #put(node: PeerNode): boolean {
    if (!this.#accepts(node)) return this.#nodes.delete(node.name);
    if (node.wgPublicKey !== undefined) this.#wgKeys.set(node.name, node.wgPublicKey);
    const next = this.#withKey(this.#served(node));
    const old = this.#nodes.get(node.name);
    if (old && sameNode(old, next)) return false;
    this.#nodes.set(node.name, { ...next, podCIDRs: [...next.podCIDRs] });
    return true;
  }

  /** False (reported once) when the node's underlay family is not the cluster's. */
  #accepts(node: PeerNode): boolean {
    const family = ipFamilyOf(node.underlayIP);
    if (this.#underlayFamily === undefined || family === this.#underlayFamily) {
      this.#refused.delete(node.name);
      return true;
    }
    const reason =
      `underlayIP ${node.underlayIP} is IPv${family ?? '?'}, the cluster's underlay is IPv${this.#underlayFamily} ` +
      '(a cluster mixing IPv4-underlay and IPv6-only nodes is not supported)';
    if (this.#refused.get(node.name) !== reason) {
      this.#refused.set(node.name, reason);
      this.#onRefused?.(node, reason);
    }
    return false;
  }

  /** `node` with only the families the cluster serves. */
  #served<T extends PeerNode>(node: T): T {
    if (this.#families.has(4) && this.#families.has(6)) return node;
    const podCIDRs = node.podCIDRs.filter((c) => this.#families.has(ipFamilyOf(c) ?? 4));
    return this.#families.has(6) ? { ...node, podCIDRs } : { ...node, underlayIP6: undefined, podCIDRs };
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
