/**
 * One shape for the desired and the observed WireGuard device (`weft.wg`): the link (from
 * `ip -json link`) and the WireGuard configuration (from `wg show <dev> dump`). The private key
 * is never part of either: the device's public key tells whether it holds the node's key.
 */

/** A peer as `wg set … peer` configures it. */
export interface WgPeerState {
  readonly publicKey: string;
  /** "ip:port" or "[ipv6]:port"; undefined = none (the peer must call us first). */
  readonly endpoint: string | undefined;
  /** Canonical CIDRs, sorted. */
  readonly allowedIPs: readonly string[];
  /** Seconds; undefined = off. */
  readonly persistentKeepalive: number | undefined;
}

/** A peer as `wg show dump` reports it: its configuration plus live counters. */
export interface WgObservedPeer extends WgPeerState {
  /** Unix seconds of the last completed handshake; 0 = never. */
  readonly latestHandshake: number;
  readonly rxBytes: number;
  readonly txBytes: number;
}

/** The WireGuard part of the device. */
export interface WgConfigState<P extends WgPeerState = WgPeerState> {
  /** Public key of the private key the device holds; undefined = it holds none. */
  readonly publicKey: string | undefined;
  /** 0 = none chosen (the implementation picks a random one). */
  readonly listenPort: number;
  readonly peers: readonly P[];
}

export interface WgLinkState {
  readonly name: string;
  readonly mtu: number;
  readonly up: boolean;
  /** Its own addresses ("10.244.1.0/32"), sorted. */
  readonly addresses: readonly string[];
}

export interface DesiredWireguard {
  readonly link: WgLinkState;
  readonly config: WgConfigState;
}

/** What exists; `link` undefined = no such device (then `config` is undefined too). */
export interface ObservedWireguard {
  readonly link: WgLinkState | undefined;
  readonly config: WgConfigState<WgObservedPeer> | undefined;
}
