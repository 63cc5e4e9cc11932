import type { ObjectCache, V1Node } from '@kubernetes/client-node';
import { backoffDelay } from '../../common/backoff.js';
import { familyName, type IpFamily } from '../../common/ip.js';
import type { Logger } from '../../common/log.js';
import { apiErrorSummary, isConflict, isInvalid, isNotFound } from './api-errors.js';
import {
  CidrExhaustedError,
  type NodeCidrs,
  type PodCidrAllocator,
  rebuildAllocator,
  recordNodeCidrs,
  type UncleanClaim,
} from './cidr-allocator.js';
import { type ControllerMetrics, recordCidrUsage } from './metrics.js';
import { missingFamilies } from './pod-cidr-allocators.js';
import { type CachedInformer, type InformerSink, runRestartingInformer } from './restarting-informer.js';

/** The Node API, narrowed to what the controller does (a fake in unit tests). */
export interface NodeApi {
  /** undefined when the Node does not exist */
  read(name: string): Promise<V1Node | undefined>;
  /** Merge patch of spec.podCIDR + spec.podCIDRs, failing with 409 unless resourceVersion is current. */
  patchPodCidrs(name: string, resourceVersion: string, podCIDRs: readonly string[]): Promise<V1Node>;
}

export interface NodeCidrControllerDeps {
  readonly nodes: NodeApi;
  readonly makeInformer: () => CachedInformer<V1Node>;
  /** One per address family, in the order of spec.podCIDRs (the order of clusterCIDRs). */
  readonly allocators: readonly PodCidrAllocator[];
  readonly metrics: ControllerMetrics;
  readonly log: Logger;
  readonly retry?: { readonly baseMs: number; readonly capMs: number };
}

/** A Node's podCIDRs as the API server has them (spec.podCIDRs, else the legacy spec.podCIDR). */
export function podCidrsOfNode(node: V1Node): string[] {
  const list = node.spec?.podCIDRs ?? [];
  if (list.length > 0) return [...list];
  return node.spec?.podCIDR ? [node.spec.podCIDR] : [];
}

function nodeCidrs(node: V1Node): NodeCidrs {
  return { name: node.metadata?.name ?? '', uid: node.metadata?.uid ?? '', podCIDRs: podCidrsOfNode(node) };
}

/**
 * Gives every Node without a podCIDR the lowest free one and never touches a Node that
 * has one. The allocators are rebuilt from the full Node list at every (re)sync, so a
 * restart never double-allocates; a deleted Node's podCIDR is released. One worker
 * handles one Node at a time.
 */
export class NodeCidrController {
  readonly #deps: NodeCidrControllerDeps;
  readonly #retry: { readonly baseMs: number; readonly capMs: number };
  #cache: ObjectCache<V1Node> | undefined;
  readonly #dirty = new Set<string>();
  readonly #waitingForSpace = new Set<string>();
  readonly #attempts = new Map<string, number>();
  /** Nodes with podCIDRs but none of some configured family (they cannot be given one). */
  readonly #incomplete = new Map<string, readonly IpFamily[]>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #wake: (() => void) | undefined;

  constructor(deps: NodeCidrControllerDeps) {
    this.#deps = deps;
    this.#retry = deps.retry ?? { baseMs: 500, capMs: 30_000 };
  }

  /** True while the Node cache is complete (between a sync and the next informer failure). */
  get synced(): boolean {
    return this.#cache !== undefined;
  }

  async run(signal: AbortSignal): Promise<void> {
    const wake = () => this.#wake?.();
    signal.addEventListener('abort', wake, { once: true });
    const sink: InformerSink<V1Node> = {
      onEvent: (_kind, node) => this.#enqueue(node.metadata?.name ?? ''),
      onSynced: (cache) => this.#onSynced(cache),
      onStopped: () => {
        this.#cache = undefined;
        this.#deps.metrics.informerRestarts.inc();
        this.#deps.metrics.errors.inc({ op: 'node_informer' });
      },
    };
    try {
      await Promise.all([
        this.#work(signal),
        runRestartingInformer(this.#deps.makeInformer, sink, signal, {
          log: this.#deps.log,
          baseMs: 1000,
          capMs: 30_000,
        }),
      ]);
    } finally {
      signal.removeEventListener('abort', wake);
      for (const timer of this.#timers) clearTimeout(timer);
      this.#timers.clear();
    }
  }

  #onSynced(cache: ObjectCache<V1Node>): void {
    const nodes = cache.list().map(nodeCidrs);
    for (const allocator of this.#deps.allocators) this.#logUnclean(rebuildAllocator(allocator, nodes));
    this.#incomplete.clear();
    for (const node of nodes) this.#checkFamilies(node);
    this.#publishUsage();
    this.#waitingForSpace.clear();
    this.#cache = cache;
    const lacking = nodes.filter((n) => n.podCIDRs.length === 0).map((n) => n.name);
    this.#deps.log.info({ op: 'sync', nodes: nodes.length, lacking: lacking.length }, 'nodes synced');
    for (const name of lacking) this.#enqueue(name);
    this.#wake?.();
  }

  #enqueue(name: string): void {
    if (name === '') return;
    this.#dirty.add(name);
    this.#wake?.();
  }

  async #work(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const cache = this.#cache;
      const name = cache === undefined ? undefined : this.#dirty.values().next().value;
      if (cache === undefined || name === undefined) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = undefined;
        continue;
      }
      this.#dirty.delete(name);
      const endTimer = this.#deps.metrics.nodeSyncDuration.startTimer();
      try {
        await this.#syncNode(name, cache);
        this.#attempts.delete(name);
      } catch (err: unknown) {
        this.#deps.metrics.errors.inc({ op: 'node_sync' });
        this.#deps.log.warn(
          { op: 'sync', node: name, err: apiErrorSummary(err) },
          'node sync failed; will retry',
        );
        this.#scheduleRetry(name);
      } finally {
        endTimer();
      }
    }
  }

  async #syncNode(name: string, cache: ObjectCache<V1Node>): Promise<void> {
    const cached = cache.get(name);
    if (cached === undefined) return this.#forget(name);
    if (podCidrsOfNode(cached).length > 0) return this.#record(cached);
    if (this.#allocationInFlight(cached)) return; // our patch landed; the watch has not shown it yet
    const fresh = await this.#deps.nodes.read(name);
    if (fresh === undefined) return this.#forget(name);
    if (podCidrsOfNode(fresh).length > 0) return this.#record(fresh);
    await this.#allocate(fresh);
  }

  #allocationInFlight(node: V1Node): boolean {
    const name = node.metadata?.name ?? '';
    return this.#deps.allocators.every((a) => {
      const held = a.heldBy(name);
      return held !== undefined && held.uid === node.metadata?.uid && held.cidrs.length > 0;
    });
  }

  async #allocate(node: V1Node): Promise<void> {
    const { metrics, log } = this.#deps;
    const owner = nodeCidrs(node);
    const cidrs: string[] = [];
    try {
      for (const allocator of this.#deps.allocators) cidrs.push(allocator.allocate(owner));
    } catch (err: unknown) {
      if (!(err instanceof CidrExhaustedError)) throw err;
      this.#releaseAll(owner.name);
      this.#waitingForSpace.add(owner.name);
      metrics.cidrAllocations.inc({ result: 'exhausted' });
      log.error({ op: 'allocate', node: owner.name, err: err.message }, 'no free podCIDR');
      return;
    }
    try {
      const patched = await this.#deps.nodes.patchPodCidrs(
        owner.name,
        node.metadata?.resourceVersion ?? '',
        cidrs,
      );
      metrics.cidrAllocations.inc({ result: 'success' });
      log.info({ op: 'allocate', node: owner.name, cidr: cidrs.join(',') }, 'podCIDR allocated');
      this.#record(patched);
    } catch (err: unknown) {
      this.#releaseAll(owner.name);
      this.#publishUsage();
      if (isNotFound(err)) return;
      if (isConflict(err) || isInvalid(err)) {
        // another writer changed the Node (maybe set its podCIDR) since we read it: re-read
        metrics.cidrAllocations.inc({ result: 'conflict' });
        log.info({ op: 'allocate', node: owner.name, err: apiErrorSummary(err) }, 'node changed; re-reading');
        this.#scheduleRetry(owner.name);
        return;
      }
      metrics.cidrAllocations.inc({ result: 'error' });
      throw err;
    }
  }

  #record(node: V1Node): void {
    const cidrs = nodeCidrs(node);
    for (const allocator of this.#deps.allocators) this.#logUnclean(recordNodeCidrs(allocator, cidrs));
    this.#checkFamilies(cidrs);
    this.#publishUsage();
  }

  /**
   * A Node that has podCIDRs but none of some configured family (typically one that got
   * its IPv4 podCIDR before clusterCIDRs became dual-stack) is logged once and counted,
   * never patched: the API server refuses any change to a non-empty spec.podCIDRs
   * (ValidateNodeUpdate), so a patch would only fail forever. Re-creating the Node
   * object (kubelet registers it again) gets it a podCIDR of every family.
   */
  #checkFamilies(node: NodeCidrs): void {
    const missing = node.podCIDRs.length === 0 ? [] : missingFamilies(this.#deps.allocators, node.podCIDRs);
    const before = this.#incomplete.get(node.name);
    if (missing.length === 0) {
      this.#incomplete.delete(node.name);
      return;
    }
    this.#incomplete.set(node.name, missing);
    if (before !== undefined && before.join() === missing.join()) return;
    this.#deps.log.warn(
      {
        op: 'record',
        node: node.name,
        cidr: node.podCIDRs.join(','),
        family: missing.map(familyName).join(','),
      },
      'node has no podCIDR of a configured family; spec.podCIDRs is immutable once set',
    );
  }

  #forget(name: string): void {
    this.#incomplete.delete(name);
    const freed = this.#releaseAll(name);
    this.#attempts.delete(name);
    this.#waitingForSpace.delete(name);
    if (freed.length === 0) return;
    this.#deps.log.info({ op: 'release', node: name, cidr: freed.join(',') }, 'podCIDR released');
    this.#publishUsage();
    for (const waiting of this.#waitingForSpace) this.#enqueue(waiting);
    this.#waitingForSpace.clear();
  }

  #releaseAll(name: string): string[] {
    return this.#deps.allocators.flatMap((a) => a.release(name));
  }

  #scheduleRetry(name: string): void {
    const attempt = this.#attempts.get(name) ?? 0;
    this.#attempts.set(name, attempt + 1);
    const timer = setTimeout(
      () => {
        this.#timers.delete(timer);
        this.#enqueue(name);
      },
      backoffDelay(attempt, this.#retry.baseMs, this.#retry.capMs),
    );
    this.#timers.add(timer);
  }

  #publishUsage(): void {
    const incomplete = [...this.#incomplete.values()];
    for (const a of this.#deps.allocators) {
      const missing = incomplete.filter((families) => families.includes(a.family)).length;
      recordCidrUsage(this.#deps.metrics, a.family, a.usage(), missing);
    }
  }

  #logUnclean(unclean: readonly UncleanClaim[]): void {
    for (const { node, outcome } of unclean) {
      const fields = { op: 'record', node, cidr: outcome.cidr };
      if (outcome.kind === 'outside')
        this.#deps.log.warn(fields, 'podCIDR outside the cluster CIDRs; ignored');
      else if (outcome.kind === 'shared') {
        this.#deps.log.error({ ...fields, others: outcome.others }, 'podCIDR overlaps another node');
      } else this.#deps.log.error({ ...fields, reason: outcome.reason }, 'podCIDR is not a valid CIDR');
    }
  }
}
