import { parseIpv4 } from '../../../common/cidr.js';
import { errorMessage } from '../../../common/errors.js';
import { cidrRange, type Range, rangesToElements, subtractRanges } from './ranges.js';
import { EVERYTHING, matchesSelector } from './selector.js';
import type { IpBlock, PolicyNamespace, PolicyPeer, PolicyPod } from './types.js';

/** A pod's IPv4 addresses as numbers; other families are not matched (IPv4 datapath). */
function ipv4Numbers(ips: readonly string[]): number[] {
  const out: number[] = [];
  for (const ip of ips) {
    if (ip.includes(':')) continue;
    try {
      out.push(parseIpv4(ip));
    } catch {
      // The store keeps only well-formed addresses; anything else matches nothing.
    }
  }
  return out;
}

/**
 * The cluster as the compiler reads it: pods by namespace, namespace labels,
 * each pod's addresses parsed once. Selector results are remembered for the
 * life of the index (one compilation), since many rules share their peers.
 */
export class PolicyIndex {
  readonly byNamespace = new Map<string, PolicyPod[]>();
  readonly all: PolicyPod[] = [];
  readonly #addresses = new Map<PolicyPod, readonly number[]>();
  readonly #selected = new Map<string, PolicyPod[]>();

  constructor(
    pods: Iterable<PolicyPod>,
    readonly namespaces: ReadonlyMap<string, PolicyNamespace>,
  ) {
    for (const pod of pods) {
      if (pod.hostNetwork || pod.ips.length === 0) continue;
      this.all.push(pod);
      this.#addresses.set(pod, ipv4Numbers(pod.ips));
      const list = this.byNamespace.get(pod.namespace);
      if (list) list.push(pod);
      else this.byNamespace.set(pod.namespace, [pod]);
    }
  }

  /** The IPv4 addresses of a pod of this index, as numbers. */
  addressesOf(pod: PolicyPod): readonly number[] {
    return this.#addresses.get(pod) ?? ipv4Numbers(pod.ips);
  }

  /** Pods (not hostNetwork, with an address) a peer entry of a policy in `policyNs` selects. */
  podsOf(policyNs: string, peer: PolicyPeer): PolicyPod[] {
    if (peer.ipBlock) return [];
    const key = JSON.stringify([
      peer.namespaceSelector ? null : policyNs,
      peer.namespaceSelector,
      peer.podSelector,
    ]);
    const known = this.#selected.get(key);
    if (known) return known;
    const podSelector = peer.podSelector ?? EVERYTHING;
    const namespaces = peer.namespaceSelector
      ? [...this.namespaces.values()]
          .filter((ns) => matchesSelector(peer.namespaceSelector as typeof EVERYTHING, ns.labels))
          .map((ns) => ns.name)
      : [policyNs];
    const pods = namespaces.flatMap((ns) =>
      (this.byNamespace.get(ns) ?? []).filter((p) => matchesSelector(podSelector, p.labels)),
    );
    this.#selected.set(key, pods);
    return pods;
  }
}

/** An ipBlock as canonical CIDRs (cidr minus except); IPv6 blocks match nothing here (IPv4 datapath). */
export function ipBlockCidrs(block: IpBlock): string[] {
  return rangesToElements(ipBlockRanges(block));
}

function ipBlockRanges(block: IpBlock): Range[] {
  if (block.cidr.includes(':')) return [];
  const holes = block.except.filter((e) => !e.includes(':')).map(cidrRange);
  return subtractRanges([cidrRange(block.cidr)], holes);
}

/** Where a peer list cannot be enforced as written: the field and why. */
export interface PeerProblem {
  readonly field: string;
  readonly reason: string;
}

/**
 * The addresses a list of peers allows, as interval-set elements: the selected
 * pods' IPv4 addresses and the ipBlocks. A malformed ipBlock contributes nothing
 * (fail closed) and is reported.
 */
export function peerElements(
  index: PolicyIndex,
  policyNs: string,
  peers: readonly PolicyPeer[],
  field: string,
  problems: PeerProblem[],
): string[] {
  const out: Range[] = [];
  peers.forEach((peer, i) => {
    if (peer.ipBlock) {
      try {
        out.push(...ipBlockRanges(peer.ipBlock));
      } catch (err: unknown) {
        problems.push({ field: `${field}[${i}].ipBlock`, reason: errorMessage(err) });
      }
      return;
    }
    for (const pod of index.podsOf(policyNs, peer)) for (const n of index.addressesOf(pod)) out.push([n, n]);
  });
  return rangesToElements(out);
}
