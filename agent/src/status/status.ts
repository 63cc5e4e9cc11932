import type { SyncResult } from '../datapath/types.js';
import type { MeshView } from '../gossip/options.js';
import type { LocalNetwork } from '../local-network.js';

/** The JSON served at /api/v1/status and printed by `weft status --json`. */
export interface StatusJson {
  readonly node: {
    readonly name: string;
    readonly backend: string | null;
    readonly mtu: number | null;
    readonly underlayIP: string | null;
    readonly underlayInterface: string | null;
    readonly podCIDRs: readonly string[];
    readonly ready: boolean;
    readonly bootId: string | null;
    readonly agentVersion: string | null;
  };
  /** Absent when the IPAM has not reported yet. */
  readonly ipam?: { readonly allocated: number; readonly capacity: number };
  readonly peers: readonly StatusPeer[];
  readonly generatedAt: string;
}

export interface StatusPeer {
  readonly name: string;
  /** From gossip; 'unknown' for a peer the datapath routes but gossip has not heard of. */
  readonly state: 'alive' | 'suspect' | 'dead' | 'left' | 'unknown';
  readonly route: 'direct' | 'vxlan' | null;
  readonly underlayIP: string | null;
  readonly lastSeenAgoMs: number | null;
  readonly rttMs: number | null;
  readonly bootId: string | null;
}

export interface IpamStats {
  readonly allocated: number;
  readonly capacity: number;
}

export interface StatusInputs {
  readonly nodeName: string;
  readonly mesh: MeshView | undefined;
  readonly sync: SyncResult | undefined;
  readonly local: LocalNetwork | undefined;
  readonly ipam: IpamStats | undefined;
  readonly nowMs: number;
}

/** Builds the status document from the agent's parts; pure. */
export function computeStatus(i: StatusInputs): StatusJson {
  const self = i.mesh?.self;
  const names = new Set<string>([
    ...(i.mesh?.peers.map((p) => p.name) ?? []),
    ...(i.sync?.peerRoutes.keys() ?? []),
  ]);
  const byName = new Map(i.mesh?.peers.map((p) => [p.name, p]) ?? []);
  const peers: StatusPeer[] = [...names].sort().map((name) => {
    const p = byName.get(name);
    return {
      name,
      state: p?.state ?? 'unknown',
      route: i.sync?.peerRoutes.get(name) ?? null,
      underlayIP: p?.record.underlayIP ?? null,
      lastSeenAgoMs: p && p.lastSeenAt > 0 ? Math.max(0, i.nowMs - p.lastSeenAt) : null,
      rttMs: p?.rttMs ?? null,
      bootId: p?.record.incarnation ?? null,
    };
  });
  const status: StatusJson = {
    node: {
      name: i.nodeName,
      backend: self?.backend ?? null,
      mtu: i.sync?.mtu ?? i.local?.mtu ?? self?.mtu ?? null,
      underlayIP: self?.underlayIP ?? null,
      underlayInterface: i.sync?.underlayInterface ?? null,
      podCIDRs: i.local?.podCIDRs ?? self?.podCIDRs ?? [],
      ready: self?.ready ?? false,
      bootId: self?.incarnation ?? null,
      agentVersion: self?.agentVersion ?? null,
    },
    peers,
    generatedAt: new Date(i.nowMs).toISOString(),
  };
  return i.ipam ? { ...status, ipam: { allocated: i.ipam.allocated, capacity: i.ipam.capacity } } : status;
}
