import type { PeerNode } from '../datapath/types.js';
import type { ViewSource } from './peer-store.js';

/** Where one entry of the PeerStore came from. */
export type NodeSource = ViewSource | 'gossip';

/** A peer as the signed gossip view reports it. */
export interface GossipPeer extends PeerNode {
  readonly state: 'alive' | 'suspect' | 'dead' | 'left';
}

export interface GossipMergePlan {
  /** Entries to add or update, each tagged `gossip`. */
  readonly put: readonly PeerNode[];
  /** Gossip-sourced entries to drop. */
  readonly drop: readonly string[];
}

/**
 * The precedence rule between the API view and gossip; pure. Once the API has
 * listed (`viewSource === 'api'`) gossip adds nothing. Before that, a peer that
 * gossip reports alive with an underlay IP and podCIDRs is added as a `gossip`
 * entry unless an API or cache entry of that name exists (those are never
 * overridden). A gossip entry follows its record's IPs (underlayIP6 too) and podCIDRs, stays while
 * the peer is suspect or dead (its route is kept, like a cached one), and is
 * dropped when the peer left (tombstone) or gossip no longer knows it.
 */
export function planGossipMerge(
  selfName: string,
  viewSource: ViewSource,
  current: ReadonlyMap<string, { readonly node: PeerNode; readonly source: NodeSource }>,
  offered: readonly GossipPeer[],
): GossipMergePlan {
  const put: PeerNode[] = [];
  const keep = new Set<string>();
  if (viewSource !== 'api') {
    for (const p of offered) {
      if (p.name === selfName || p.podCIDRs.length === 0 || p.state === 'left') continue;
      const entry = current.get(p.name);
      if (entry && entry.source !== 'gossip') continue;
      if (!entry && p.state !== 'alive') continue;
      keep.add(p.name);
      if (!entry || !sameNode(entry.node, p)) {
        put.push({
          name: p.name,
          underlayIP: p.underlayIP,
          ...(p.underlayIP6 === undefined ? {} : { underlayIP6: p.underlayIP6 }),
          podCIDRs: [...p.podCIDRs],
          ...(p.wgPublicKey === undefined ? {} : { wgPublicKey: p.wgPublicKey }),
        });
      }
    }
  }
  const drop = [...current]
    .filter(([name, e]) => e.source === 'gossip' && !keep.has(name))
    .map(([name]) => name);
  return { put, drop };
}

export function sameNode(a: PeerNode, b: PeerNode): boolean {
  return (
    a.underlayIP === b.underlayIP &&
    a.underlayIP6 === b.underlayIP6 &&
    a.wgPublicKey === b.wgPublicKey &&
    a.podCIDRs.length === b.podCIDRs.length &&
    a.podCIDRs.every((cidr, i) => cidr === b.podCIDRs[i])
  );
}
