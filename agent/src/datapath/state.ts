import type { WgDesiredInput } from '../wireguard/desired.js';
import type { PeerRoute } from './types.js';

/**
 * The part of a node's kernel that Weft owns, in one shape for both sides of the
 * diff: `desired*` computes it, `observe*` reads it, `plan*` compares the two.
 * Addresses are "a.b.c.d/len" strings; lists are sorted so equal states compare equal.
 */

export interface BridgeState {
  readonly name: string;
  /** Link kind as the kernel reports it ("bridge"); a wrong kind means recreate. */
  readonly kind: string;
  /** Fixed, derived from the underlay IP (see vtep.ts bridgeMac, an IPv6 one folded); lower case. */
  readonly mac: string;
  readonly mtu: number;
  readonly up: boolean;
  readonly addresses: readonly string[];
}

export interface VxlanState {
  readonly name: string;
  readonly kind: string;
  readonly vni: number;
  readonly port: number;
  /** Underlay source address of the tunnel (IPv6 on an IPv6-only node, RFC 5952 text). */
  readonly local: string;
  /** Underlay interface the tunnel is bound to. */
  readonly dev: string;
  readonly mac: string;
  readonly learning: boolean;
  readonly mtu: number;
  readonly up: boolean;
  /** The VTEP's own address(es): network address of each own podCIDR, /32 (IPv6: /128). */
  readonly addresses: readonly string[];
}

/** A route in the main table carrying Weft's protocol number. */
export interface RouteState {
  readonly dst: string;
  readonly gateway: string;
  readonly dev: string;
  readonly onlink: boolean;
  readonly metric: number;
}

/** A policy-routing rule carrying Weft's protocol number: fwmark → table (ADR 14). */
export interface IpRuleState {
  readonly priority: number;
  /** Input device the rule is limited to ("" = any). */
  readonly iif: string;
  /** As `ip rule` prints them: "0x1000". */
  readonly fwmark: string;
  readonly fwmask: string;
  readonly table: string;
}

/** A permanent neighbour entry on the VXLAN device: the peer VTEP's gateway → its MAC. */
export interface NeighState {
  readonly dev: string;
  readonly ip: string;
  readonly mac: string;
}

/** A VXLAN forwarding entry: peer VTEP MAC → peer underlay IP. */
export interface FdbState {
  readonly dev: string;
  readonly mac: string;
  readonly dst: string;
}

export interface NftSetState {
  readonly name: string;
  /** "ipv4_addr", or a concatenation as nft prints it ("ipv4_addr . inet_proto . inet_service"). */
  readonly type: string;
  /** "interval" or "". */
  readonly flags: string;
  /** Elements, sorted: canonical CIDRs for interval sets, "10.244.2.5 . tcp . 8080" for concatenations. */
  readonly elements: readonly string[];
}

/** A verdict map: key → "jump <chain>", elements as "10.244.1.5 : jump in_0a1b2c3d", sorted. */
export interface NftMapState {
  readonly name: string;
  readonly type: string;
  readonly elements: readonly string[];
}

export interface NftChainState {
  readonly name: string;
  readonly type: string;
  readonly hook: string;
  readonly prio: number;
  readonly policy: string;
  /** Rule identities (their comments), in order; "" for a rule without a comment. */
  readonly rules: readonly string[];
}

/** Table `inet weft`, reduced to what decides whether (and what of it) must be rewritten; lists sorted by name. */
export interface NftTableState {
  readonly sets: readonly NftSetState[];
  readonly maps: readonly NftMapState[];
  /** Named counter objects. */
  readonly counters: readonly string[];
  /** Base chains (with a hook) and regular chains (hook "", reached by jumps). */
  readonly chains: readonly NftChainState[];
}

export interface DatapathState {
  readonly bridge: BridgeState | undefined;
  readonly vxlan: VxlanState | undefined;
  readonly routes: readonly RouteState[];
  /** Routes of the reply table (87) carrying Weft's protocol: VXLAN peers' underlay IPs (ADR 14). */
  readonly replyRoutes: readonly RouteState[];
  /** Weft's policy-routing rules (the fwmark rule for the reply table). */
  readonly rules: readonly IpRuleState[];
  readonly neighbours: readonly NeighState[];
  readonly fdb: readonly FdbState[];
  /** sysctl key → value ("net.ipv4.ip_forward" → "1"). */
  readonly sysctls: ReadonlyMap<string, string>;
  readonly nft: NftTableState | undefined;
}

/** What desired() returns: the target state plus the decisions behind it. */
export interface DesiredDatapath extends DatapathState {
  readonly mtu: number;
  readonly peerRoutes: ReadonlyMap<string, PeerRoute>;
  /** Route kind per peer for its IPv6 podCIDRs (see SyncResult.peerRoutes6). */
  readonly peerRoutes6: ReadonlyMap<string, PeerRoute>;
  /** Rule identity → rule text, for every rule of `nft` (what a rewrite of a chain needs). */
  readonly nftRules: ReadonlyMap<string, string>;
  /**
   * The NetworkPolicy part of `nft` is not known yet (the policy engine has not synced):
   * plan keeps what the kernel has and never rewrites the table meanwhile (ADR 13).
   */
  readonly policyPending: boolean;
  /**
   * Peers left out, with the reason (bad podCIDR, overlaps our own, …), for the log; sorted by
   * peer, one entry per peer. `family: 6`: only the peer's IPv6 podCIDRs are left out (its IPv4
   * ones are routed), e.g. backend hostgw and no direct IPv6 path to it.
   */
  readonly skipped: readonly SkippedPeer[];
  /** The WireGuard device's part (undefined without encryption): applied by the WireGuard hook. */
  readonly wireguard?: DesiredWireguardPeers | undefined;
}

/** What desired() decides for `weft.wg`; the node's key and the device itself are the hook's (ADR 16). */
export interface DesiredWireguardPeers
  extends Omit<WgDesiredInput, 'publicKey' | 'underlayFamily' | 'persistentKeepalive'> {
  /** Peers to be reached through the device that published no usable key: left out (counted). */
  readonly keyless: readonly KeylessPeer[];
  /** 6 on an IPv6-only node (endpoints over IPv6, the larger outer header, ADR 19); absent = 4. */
  readonly underlayFamily?: 6;
}

export interface SkippedPeer {
  readonly peer: string;
  readonly reason: string;
  /** Present (6) when only the peer's IPv6 podCIDRs are left out. */
  readonly family?: 6;
}

export interface KeylessPeer {
  readonly peer: string;
  readonly reason: 'no-key' | 'bad-key';
}

/** Facts about the underlay interface that desired() depends on. */
export interface UnderlayFacts {
  readonly iface: string;
  readonly mtu: number;
  /** Directly connected IPv4 subnets of the underlay interface ("192.168.1.0/24"). */
  readonly subnets: readonly string[];
  /**
   * Directly connected IPv6 subnets of the same interface ("fd00:192:168:71::/64"), learnt only
   * when the node has an IPv6 InternalIP; absent = none (every IPv6 podCIDR through the tunnel).
   */
  readonly subnets6?: readonly string[];
}

/**
 * The NetworkPolicy part of table inet weft, compiled by agent/src/policy: the
 * selector sets, one regular chain per distinct pod verdict, and the elements of
 * the dispatch maps (pod address → jump to its chain; one pair per family). ADR 12.
 */
export interface PolicyContent {
  readonly sets: readonly NftSetState[];
  /** Regular chains (hook ""), sorted by name. */
  readonly chains: readonly NftChainState[];
  /** Rule identity → text for every rule of `chains`. */
  readonly rules: ReadonlyMap<string, string>;
  /** Elements of map pol_ingress: "10.244.1.5 : jump in_…", sorted. */
  readonly ingress: readonly string[];
  /** Elements of map pol_egress. */
  readonly egress: readonly string[];
  /** Elements of map pol_ingress6 (pods' IPv6 addresses, dual-stack); absent = none. */
  readonly ingress6?: readonly string[];
  /** Elements of map pol_egress6. */
  readonly egress6?: readonly string[];
}
