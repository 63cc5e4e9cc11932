/**
 * The seam between the agent's runtime (config, Node watch, reconcile loop) and
 * the datapath (desired → observe → plan → apply against the kernel).
 */

export type Backend = 'auto' | 'hostgw' | 'vxlan' | 'wireguard';

/**
 * Which peers' pod traffic goes through the WireGuard device (ADR 16): none, every peer
 * (`backend: wireguard`), or only peers not on a directly connected subnet (`auto` with
 * `encryption.peers: crossSubnet`; the others stay direct).
 */
export type Encryption = 'none' | 'all' | 'crossSubnet';

/** The route kind actually chosen for one peer. */
export type PeerRoute = 'direct' | 'vxlan' | 'wireguard';

/** This node, as the datapath needs it. */
export interface SelfNode {
  readonly name: string;
  /**
   * The node's primary InternalIP (underlay address): IPv4, or on an IPv6-only node its IPv6
   * InternalIP (then underlayIP6 is the same address and podCIDRs are IPv6 only; ADR 19). The
   * family of the underlay is the family of this address.
   */
  readonly underlayIP: string;
  /**
   * The node's IPv6 InternalIP (RFC 5952 text) when it has one besides the IPv4 one: the
   * direct (host-gw) next hop for IPv6 podCIDRs. undefined = IPv6 pods of this node are
   * reached through the tunnel over the IPv4 underlay only (ADR 18).
   */
  readonly underlayIP6?: string | undefined;
  /** This node's podCIDRs of both families, canonical, IPv4 first; empty while not yet assigned. */
  readonly podCIDRs: readonly string[];
}

/** Another node whose pods this node must reach. */
export interface PeerNode {
  readonly name: string;
  /** Primary InternalIP: IPv4, or IPv6 on an IPv6-only node (see SelfNode.underlayIP). */
  readonly underlayIP: string;
  /** IPv6 InternalIP besides the IPv4 one (see SelfNode.underlayIP6). */
  readonly underlayIP6?: string | undefined;
  /** podCIDRs of both families, canonical, IPv4 first. */
  readonly podCIDRs: readonly string[];
  /** The WireGuard public key the node publishes in its gossip record (ADR 16); undefined = none. */
  readonly wgPublicKey?: string | undefined;
}

/** The datapath part of net-conf, already validated. */
export interface DatapathConfig {
  readonly backend: Backend;
  /** One per family at most, canonical, IPv4 first (net-conf validated it). */
  readonly clusterCIDRs: readonly string[];
  readonly vxlanVNI: number;
  readonly vxlanPort: number;
  /** Pod MTU override; undefined = derived from the underlay interface. */
  readonly mtu: number | undefined;
  readonly masquerade: boolean;
  /** Destinations that pod traffic reaches without masquerade, besides the cluster CIDRs. */
  readonly nonMasqueradeCIDRs: readonly string[];
  /** Enforce NetworkPolicy: table inet weft gets the policy hooks, maps and counters (ADR 12). */
  readonly networkPolicy: boolean;
  /** Which peers are reached through the WireGuard device; 'none' = no device. */
  readonly encryption: Encryption;
  /** The WireGuard device's UDP port (every node listens on the same one). */
  readonly wireguardPort: number;
  /** Device names, overridable so that tests can run several agents side by side. */
  readonly bridgeName: string;
  readonly vxlanName: string;
  readonly wireguardName: string;
}

/** What one sync did, for logs, metrics, readiness and the status API. */
export interface SyncResult {
  /** Number of changes applied (0 on an already-correct kernel). */
  readonly changes: number;
  /** Route kind chosen per peer name, for its IPv4 podCIDRs (empty on an IPv6-only node). */
  readonly peerRoutes: ReadonlyMap<string, PeerRoute>;
  /**
   * Route kind chosen per peer name for its IPv6 podCIDRs (auto decides per family: a peer
   * can be direct for IPv4 and VXLAN for IPv6). No entry = the peer has no usable IPv6 podCIDR
   * or this node has none.
   */
  readonly peerRoutes6: ReadonlyMap<string, PeerRoute>;
  /** Pod MTU in force. */
  readonly mtu: number;
  /** The underlay interface found for SelfNode.underlayIP. */
  readonly underlayInterface: string;
}

/** How one sync learns the current kernel state. */
export interface SyncOptions {
  /**
   * Plan against the state the previous successful sync left behind instead of
   * reading the kernel (and reuse the underlay facts it found). For event-driven
   * syncs of a large cluster: a one-peer change then costs one small batch instead
   * of a full dump. Ignored when there is no such state (first sync, or the previous
   * apply failed). Hand-made drift is only seen by a sync without this flag, so the
   * periodic resync must not set it.
   */
  readonly trustLastApplied?: boolean;
}
