import type { Backend, PeerRoute, SelfNode, SyncResult } from '../datapath/types.js';
import type { MeshView, PeerView } from '../gossip/options.js';
import type { GossipPhase } from '../gossip/phase.js';
import type { LocalNetwork } from '../local-network.js';
import type { NodeSource } from '../peers/gossip-merge.js';
import type { ClusterView, ViewSource } from '../peers/peer-store.js';
import type { Readiness } from '../reconcile/readiness.js';
import type { WireguardStatus } from '../wireguard/manager.js';
import { computeGossipStatus, type StatusGossip } from './gossip-status.js';

/** The JSON served at /api/v1/status and printed by `weft status --json`. */
export interface StatusJson {
  /** This node as the agent itself knows it: config, cluster view, last datapath sync. */
  readonly node: {
    readonly name: string;
    /** As /readyz: a datapath sync has succeeded. */
    readonly ready: boolean;
    /** Why the node is not ready; null when it is. */
    readonly notReadyReason: string | null;
    /** The configured backend (net-conf `backend.type`). */
    readonly backend: Backend;
    readonly mtu: number | null;
    /** This node's InternalIP, as last programmed (or as the cluster view has it before that). */
    readonly underlayIP: string | null;
    /** This node's IPv6 InternalIP (dual-stack); absent when it has none. */
    readonly underlayIP6?: string;
    readonly underlayInterface: string | null;
    /** Both families, IPv4 first. */
    readonly podCIDRs: readonly string[];
    /** Where the cluster view comes from: `api`, `cache` (the API has not answered yet) or `empty`. */
    readonly viewSource: ViewSource;
    /** The gossip incarnation; null while gossip is off. */
    readonly bootId: string | null;
    readonly agentVersion: string;
  };
  readonly gossip: StatusGossip;
  /** Absent when the IPAM has not reported yet. */
  readonly ipam?: { readonly allocated: number; readonly capacity: number };
  readonly peers: readonly StatusPeer[];
  /** The WireGuard device (ADR 16); absent when the net-conf does not encrypt. */
  readonly wireguard?: StatusWireguard;
  readonly generatedAt: string;
}

export interface StatusWireguard {
  readonly device: string;
  /** kernel, userspace (wireguard-go) or none (then encrypted peers are not reached). */
  readonly implementation: WireguardStatus['implementation'];
  readonly detail: string;
  readonly publicKey: string;
  readonly listenPort: number | null;
  readonly peers: readonly {
    readonly name: string;
    readonly publicKey: string;
    readonly endpoint: string | null;
    /** Seconds since the last completed handshake; null = none yet. */
    readonly handshakeAgoS: number | null;
    readonly rxBytes: number;
    readonly txBytes: number;
  }[];
  /** Peers left out of the device (never reached in clear text instead), with the reason. */
  readonly skipped: readonly { readonly peer: string; readonly reason: string }[];
}

export type PeerState = PeerView['state'] | 'unknown' | 'gossip-off';

export interface StatusPeer {
  readonly name: string;
  /**
   * From gossip: alive, suspect, dead, left; `unknown` for a node gossip has not
   * heard of yet; `gossip-off` for every peer while this agent's gossip does not run.
   */
  readonly state: PeerState;
  /** The route kind of the peer's IPv4 podCIDR (SyncResult.peerRoutes). */
  readonly route: PeerRoute | null;
  /** The route kind of the peer's IPv6 podCIDR (SyncResult.peerRoutes6); absent when none is routed. */
  readonly route6?: PeerRoute;
  readonly underlayIP: string | null;
  /** The peer's IPv6 InternalIP; absent when it has none. */
  readonly underlayIP6?: string;
  readonly podCIDRs: readonly string[];
  /** Where the cluster view has the node from (`api`, `cache`, `gossip`); null when only gossip knows it. */
  readonly source: NodeSource | null;
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
  readonly backend: Backend;
  readonly agentVersion: string;
  /** The gossip key Secret as "namespace/name", named when the key is missing. */
  readonly keySecret: string;
  readonly readiness: Readiness;
  readonly cluster: ClusterView;
  readonly sourceOf: (name: string) => NodeSource | undefined;
  readonly sync: SyncResult | undefined;
  /** This node as the last successful sync programmed it. */
  readonly programmedSelf: SelfNode | undefined;
  readonly local: LocalNetwork | undefined;
  readonly ipam: IpamStats | undefined;
  readonly gossip: GossipPhase;
  readonly mesh: MeshView | undefined;
  readonly wireguard: WireguardStatus | undefined;
  readonly nowMs: number;
}

/** Builds the status document from the agent's own state; gossip only adds peer liveness; pure. */
export function computeStatus(i: StatusInputs): StatusJson {
  const self = i.programmedSelf ?? i.cluster.self;
  const status: StatusJson = {
    node: {
      name: i.nodeName,
      ready: i.readiness.ready,
      notReadyReason: i.readiness.reason,
      backend: i.backend,
      mtu: i.sync?.mtu ?? i.local?.mtu ?? null,
      underlayIP: self?.underlayIP ?? null,
      ...optional('underlayIP6', self?.underlayIP6),
      underlayInterface: i.sync?.underlayInterface ?? null,
      podCIDRs: i.local?.podCIDRs ?? self?.podCIDRs ?? [],
      viewSource: i.cluster.source,
      bootId: i.gossip.phase === 'running' ? (i.mesh?.self?.incarnation ?? null) : null,
      agentVersion: i.agentVersion,
    },
    gossip: computeGossipStatus(i.gossip, i.keySecret),
    peers: computePeers(i),
    generatedAt: new Date(i.nowMs).toISOString(),
  };
  const withWg = i.wireguard
    ? { ...status, wireguard: computeWireguardStatus(i.wireguard, i.nowMs) }
    : status;
  return i.ipam ? { ...withWg, ipam: { allocated: i.ipam.allocated, capacity: i.ipam.capacity } } : withWg;
}

function computeWireguardStatus(w: WireguardStatus, nowMs: number): StatusWireguard {
  return {
    device: w.device,
    implementation: w.implementation,
    detail: w.detail,
    publicKey: w.publicKey,
    listenPort: w.listenPort ?? null,
    peers: w.peers.map((p) => ({
      name: p.name,
      publicKey: p.publicKey,
      endpoint: p.endpoint ?? null,
      handshakeAgoS:
        p.latestHandshake === 0 ? null : Math.max(0, Math.round(nowMs / 1000 - p.latestHandshake)),
      rxBytes: p.rxBytes,
      txBytes: p.txBytes,
    })),
    skipped: w.skipped.map((s) => ({ peer: s.peer, reason: s.reason })),
  };
}

/** Every node of the cluster view, every routed peer and every node gossip knows, by name. */
function computePeers(i: StatusInputs): StatusPeer[] {
  const gossipOn = i.gossip.phase === 'running';
  const mesh = gossipOn ? (i.mesh?.peers ?? []) : [];
  const byName = new Map(mesh.map((p) => [p.name, p]));
  const nodes = new Map(i.cluster.nodes.map((n) => [n.name, n]));
  const names = new Set<string>([
    ...nodes.keys(),
    ...(i.sync?.peerRoutes.keys() ?? []),
    ...(i.sync?.peerRoutes6.keys() ?? []),
    ...byName.keys(),
  ]);
  names.delete(i.nodeName);
  return [...names].sort().map((name): StatusPeer => {
    const p = byName.get(name);
    const node = nodes.get(name);
    return {
      name,
      state: p?.state ?? (gossipOn ? 'unknown' : 'gossip-off'),
      route: i.sync?.peerRoutes.get(name) ?? null,
      ...optional('route6', i.sync?.peerRoutes6.get(name)),
      underlayIP: node?.underlayIP ?? p?.record.underlayIP ?? null,
      ...optional('underlayIP6', node ? node.underlayIP6 : p?.record.underlayIP6),
      podCIDRs: node?.podCIDRs ?? p?.record.podCIDRs ?? [],
      source: i.sourceOf(name) ?? null,
      lastSeenAgoMs: p && p.lastSeenAt > 0 ? Math.max(0, i.nowMs - p.lastSeenAt) : null,
      rttMs: p?.rttMs ?? null,
      bootId: p?.record.incarnation ?? null,
    };
  });
}

/** `{[key]: value}`, or nothing when value is undefined (the JSON of an IPv4-only node stays as it was). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}
