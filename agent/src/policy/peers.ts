import { isIpv4 } from '../../../common/cidr.js';
import { errorMessage } from '../../../common/errors.js';
import { canonicalElements, cidrRange, rangeToCidrs, subtractRanges } from './ranges.js';
import { EVERYTHING, matchesSelector } from './selector.js';
import type { IpBlock, PolicyNamespace, PolicyPeer, PolicyPod } from './types.js';

/** The cluster as the compiler reads it: pods by namespace, namespace labels. */
export class PolicyIndex {
  readonly byNamespace = new Map<string, PolicyPod[]>();
  readonly all: PolicyPod[] = [];

  constructor(
    pods: Iterable<PolicyPod>,
    readonly namespaces: ReadonlyMap<string, PolicyNamespace>,
  ) {
    for (const pod of pods) {
      if (pod.hostNetwork || pod.ips.length === 0) continue;
      this.all.push(pod);
      const list = this.byNamespace.get(pod.namespace);
      if (list) list.push(pod);
      else this.byNamespace.set(pod.namespace, [pod]);
    }
  }

  /** Pods (not hostNetwork, with an address) a peer entry of a policy in `policyNs` selects. */
  podsOf(policyNs: string, peer: PolicyPeer): PolicyPod[] {
    if (peer.ipBlock) return [];
    const podSelector = peer.podSelector ?? EVERYTHING;
    const namespaces = peer.namespaceSelector
      ? [...this.namespaces.values()]
          .filter((ns) => matchesSelector(peer.namespaceSelector as typeof EVERYTHING, ns.labels))
          .map((ns) => ns.name)
      : [policyNs];
    return namespaces.flatMap((ns) =>
      (this.byNamespace.get(ns) ?? []).filter((p) => matchesSelector(podSelector, p.labels)),
    );
  }
}

/** An ipBlock as canonical CIDRs (cidr minus except); IPv6 blocks match nothing here (IPv4 datapath). */
export function ipBlockCidrs(block: IpBlock): string[] {
  if (block.cidr.includes(':')) return [];
  const holes = block.except.filter((e) => !e.includes(':')).map(cidrRange);
  return subtractRanges([cidrRange(block.cidr)], holes).flatMap(rangeToCidrs);
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
  const out: string[] = [];
  peers.forEach((peer, i) => {
    if (peer.ipBlock) {
      try {
        out.push(...ipBlockCidrs(peer.ipBlock));
      } catch (err: unknown) {
        problems.push({ field: `${field}[${i}].ipBlock`, reason: errorMessage(err) });
      }
      return;
    }
    for (const pod of index.podsOf(policyNs, peer)) out.push(...pod.ips.filter(isIpv4));
  });
  return canonicalElements(out);
}
