import { parseIpv4 } from '../../../common/cidr.js';
import { errorMessage } from '../../../common/errors.js';
import { type IpFamily, parseIp } from '../../../common/ip.js';
import {
  type AddressSpace,
  IPV4_SPACE,
  IPV6_SPACE,
  type Range,
  rangesToElements,
  subtractRanges,
} from './ranges.js';
import { EVERYTHING, matchesSelector } from './selector.js';
import type { IpBlock, PolicyNamespace, PolicyPeer, PolicyPod } from './types.js';

/** A pod's addresses of one family as integers (the store keeps only well-formed ones). */
function addressValues<T>(ips: readonly string[], v6: boolean, parse: (ip: string) => T): T[] {
  const out: T[] = [];
  for (const ip of ips) {
    if (ip.includes(':') !== v6) continue;
    try {
      out.push(parse(ip));
    } catch {
      // Anything malformed matches nothing.
    }
  }
  return out;
}

const NO_PODS: readonly PolicyPod[] = Object.freeze([]);

/**
 * What one compilation can reuse from the ones before: results keyed by the
 * identity of the inputs they were computed from. Pods, namespaces and policies
 * are immutable objects that the store replaces on change, so an unchanged
 * object means an unchanged result; a compilation with a memo gives exactly
 * what one without gives. Held by the engine; entries not used by the latest
 * compilation are dropped.
 */
export class PolicyMemo {
  /** Each namespace's pods, the same array as long as its members are the same objects. */
  namespacePods = new Map<string, readonly PolicyPod[]>();
  readonly addresses = new WeakMap<PolicyPod, readonly number[]>();
  readonly addresses6 = new WeakMap<PolicyPod, readonly bigint[]>();
  /** Per namespace pods array: the pods each pod selector (as JSON) selects of it. */
  readonly selected = new WeakMap<readonly PolicyPod[], Map<string, readonly PolicyPod[]>>();
  /** Per peer-set key: the inputs its elements came from, the elements and the problems. */
  elements = new Map<string, MemoElements>();
}

export interface MemoElements {
  readonly inputs: readonly unknown[];
  readonly elements: string[];
  readonly problems: readonly PeerProblem[];
}

const sameArray = (a: readonly unknown[], b: readonly unknown[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The cluster as the compiler reads it: pods by namespace, namespace labels,
 * each pod's addresses parsed once, what selectors select — all kept in the
 * memo for the next compilation where their inputs did not change.
 */
export class PolicyIndex {
  readonly byNamespace = new Map<string, readonly PolicyPod[]>();
  readonly all: PolicyPod[] = [];
  readonly memo: PolicyMemo;
  /** Some pod has an IPv6 address (a dual-stack cluster): rules are compiled for both families. */
  readonly ipv6: boolean;

  constructor(
    pods: Iterable<PolicyPod>,
    readonly namespaces: ReadonlyMap<string, PolicyNamespace>,
    memo = new PolicyMemo(),
  ) {
    this.memo = memo;
    const lists = new Map<string, PolicyPod[]>();
    let ipv6 = false;
    for (const pod of pods) {
      if (pod.hostNetwork || pod.ips.length === 0) continue;
      this.all.push(pod);
      if (!ipv6 && pod.ips.some((ip) => ip.includes(':'))) ipv6 = true;
      const list = lists.get(pod.namespace);
      if (list) list.push(pod);
      else lists.set(pod.namespace, [pod]);
    }
    for (const [ns, list] of lists) {
      const before = memo.namespacePods.get(ns);
      this.byNamespace.set(ns, before && sameArray(before, list) ? before : list);
    }
    memo.namespacePods = new Map(this.byNamespace);
    this.ipv6 = ipv6;
  }

  /** The IPv4 addresses of a pod, as numbers. */
  addressesOf(pod: PolicyPod): readonly number[] {
    let known = this.memo.addresses.get(pod);
    if (!known) {
      known = addressValues(pod.ips, false, parseIpv4);
      this.memo.addresses.set(pod, known);
    }
    return known;
  }

  /** The IPv6 addresses of a pod, as bigints. */
  addresses6Of(pod: PolicyPod): readonly bigint[] {
    let known = this.memo.addresses6.get(pod);
    if (!known) {
      known = addressValues(pod.ips, true, (ip) => parseIp(ip).value);
      this.memo.addresses6.set(pod, known);
    }
    return known;
  }

  /**
   * The pods (not hostNetwork, with an address) a peer entry of a policy in
   * `policyNs` selects, as one group per namespace: each group stays the same
   * array while that namespace's pods do not change.
   */
  podGroupsOf(policyNs: string, peer: PolicyPeer): readonly (readonly PolicyPod[])[] {
    if (peer.ipBlock) return [];
    const podSelector = peer.podSelector ?? EVERYTHING;
    const namespaces = peer.namespaceSelector
      ? [...this.namespaces.values()]
          .filter((ns) => matchesSelector(peer.namespaceSelector as typeof EVERYTHING, ns.labels))
          .map((ns) => ns.name)
      : [policyNs];
    const key = JSON.stringify(podSelector);
    return namespaces.map((ns) => {
      const pods = this.byNamespace.get(ns);
      if (!pods) return NO_PODS;
      let bySelector = this.memo.selected.get(pods);
      if (!bySelector) {
        bySelector = new Map();
        this.memo.selected.set(pods, bySelector);
      }
      let selected = bySelector.get(key);
      if (!selected) {
        selected = pods.filter((p) => matchesSelector(podSelector, p.labels));
        bySelector.set(key, selected);
      }
      return selected;
    });
  }
}

/** What peer sets need of one address family. */
interface FamilyView<T extends number | bigint> {
  readonly space: AddressSpace<T>;
  readonly addresses: (index: PolicyIndex, pod: PolicyPod) => readonly T[];
  /** A CIDR text of this family (the other family's blocks and holes are not this set's). */
  readonly isOf: (cidr: string) => boolean;
}

const FAMILIES: { readonly 4: FamilyView<number>; readonly 6: FamilyView<bigint> } = {
  4: { space: IPV4_SPACE, addresses: (i, p) => i.addressesOf(p), isOf: (c) => !c.includes(':') },
  6: { space: IPV6_SPACE, addresses: (i, p) => i.addresses6Of(p), isOf: (c) => c.includes(':') },
};

/**
 * An ipBlock as canonical CIDRs of one family (cidr minus except). A block of
 * the other family contributes nothing, so an IPv4 block never matches IPv6 and
 * vice versa; `except` entries of the other family cannot lie inside it.
 */
export function ipBlockCidrs(block: IpBlock, family: IpFamily = 4): string[] {
  return family === 4 ? blockElements(FAMILIES[4], block) : blockElements(FAMILIES[6], block);
}

function blockElements<T extends number | bigint>(view: FamilyView<T>, block: IpBlock): string[] {
  return rangesToElements(ipBlockRanges(view, block), view.space);
}

function ipBlockRanges<T extends number | bigint>(view: FamilyView<T>, block: IpBlock): Range<T>[] {
  if (!view.isOf(block.cidr)) return [];
  const holes = block.except.filter(view.isOf).map(view.space.cidrRange);
  return subtractRanges(view.space, [view.space.cidrRange(block.cidr)], holes);
}

/** Where a peer list cannot be enforced as written: the field and why. */
export interface PeerProblem {
  readonly field: string;
  readonly reason: string;
}

/**
 * The addresses of one family a list of peers allows, as interval-set elements:
 * the selected pods' addresses (`groups[i]`: what peer i selects) and the
 * ipBlocks. A malformed ipBlock contributes nothing (fail closed) and is reported.
 */
function peerElements<T extends number | bigint>(
  view: FamilyView<T>,
  index: PolicyIndex,
  peers: readonly PolicyPeer[],
  groups: readonly (readonly (readonly PolicyPod[])[])[],
  field: string,
  problems: PeerProblem[],
): string[] {
  const out: Range<T>[] = [];
  peers.forEach((peer, i) => {
    if (peer.ipBlock) {
      try {
        out.push(...ipBlockRanges(view, peer.ipBlock));
      } catch (err: unknown) {
        problems.push({ field: `${field}[${i}].ipBlock`, reason: errorMessage(err) });
      }
      return;
    }
    for (const group of groups[i] ?? [])
      for (const pod of group) for (const n of view.addresses(index, pod)) out.push([n, n]);
  });
  return rangesToElements(out, view.space);
}

/**
 * A set's elements through the memo: computed again only when one of `inputs`
 * (groups of selected pods, ipBlocks as text) is not what it was last time.
 * `used` collects the entries of this compilation.
 */
export function memoElements(
  index: PolicyIndex,
  used: Map<string, MemoElements>,
  key: string,
  inputs: readonly unknown[],
  compute: () => { elements: string[]; problems: readonly PeerProblem[] },
): { elements: string[]; problems: readonly PeerProblem[] } {
  const known = used.get(key) ?? index.memo.elements.get(key);
  if (known && sameArray(known.inputs, inputs)) {
    used.set(key, known);
    return known;
  }
  const entry = { inputs, ...compute() };
  used.set(key, entry);
  return entry;
}

/**
 * peerElements of one family through the memo; `key` names the peer list
 * (equal lists share it).
 */
export function memoPeerElements(
  index: PolicyIndex,
  key: string,
  policyNs: string,
  peers: readonly PolicyPeer[],
  field: string,
  used: Map<string, MemoElements>,
  family: IpFamily = 4,
): { elements: string[]; problems: readonly PeerProblem[] } {
  const groups = peers.map((p) => index.podGroupsOf(policyNs, p));
  const inputs = peers.flatMap((p, i): unknown[] =>
    p.ipBlock ? [JSON.stringify(p.ipBlock)] : [...(groups[i] ?? [])],
  );
  return memoElements(index, used, `${family === 4 ? 'pe' : 'pe6'} ${key}`, inputs, () => {
    const problems: PeerProblem[] = [];
    const elements =
      family === 4
        ? peerElements(FAMILIES[4], index, peers, groups, field, problems)
        : peerElements(FAMILIES[6], index, peers, groups, field, problems);
    return { elements, problems };
  });
}
