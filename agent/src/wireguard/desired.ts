import { isIpv4 } from '../../../common/cidr.js';
import { canonicalAllowedIP } from './dump.js';
import { isWireguardKey } from './keys.js';
import type { DesiredWireguard, WgPeerState } from './state.js';

/** The device name (overridable like every Weft name, so tests can run several side by side). */
export const WG_DEVICE = 'weft.wg';
/** WireGuard's registered port; every node listens on the same one unless configured. */
export const WG_DEFAULT_PORT = 51820;
/** Outer IPv4 (20) + UDP (8) + WireGuard header (32) = 60; with an IPv6 outer header (40): 80. */
export const WG_OVERHEAD = { 4: 60, 6: 80 } as const;
/**
 * Persistent keepalive (s). Besides keeping NAT state, turning it on for a peer makes the device
 * send a keepalive at once — so a peer entry that is new (a node joined, or its key rotated)
 * handshakes immediately instead of waiting for traffic and WireGuard's 5–15 s retry timers.
 */
export const WG_KEEPALIVE_S = 25;

/** The MTU of `weft.wg` on an underlay of `underlayMtu` carried over IPv4 or IPv6. */
export function computeWgMtu(underlayMtu: number, family: 4 | 6): number {
  return underlayMtu - WG_OVERHEAD[family];
}

/** A peer node as WireGuard needs it: its published public key (undefined = none yet) and endpoint. */
export interface WgPeerInput {
  readonly name: string;
  readonly underlayIP: string;
  /** The addresses routed to it: its podCIDRs (and its node IP /32, ADR 14). */
  readonly allowedIPs: readonly string[];
  readonly publicKey: string | undefined;
  /** The peer's listen port; undefined = the own one. */
  readonly listenPort?: number | undefined;
}

export interface WgDesiredInput {
  readonly device: string;
  readonly listenPort: number;
  readonly underlayMtu: number;
  /** The device's own addresses (each own podCIDR's network address /32: the source of host traffic). */
  readonly addresses: readonly string[];
  /** The address family of the underlay (the node's InternalIP): the outer header's size. */
  readonly underlayFamily: 4 | 6;
  /** Public key of the node's own key pair. */
  readonly publicKey: string;
  readonly peers: readonly WgPeerInput[];
  /** Seconds, 0 = off; default WG_KEEPALIVE_S. */
  readonly persistentKeepalive?: number | undefined;
}

/** Why a peer is left out: never reached in clear text instead (issue 16). */
export type WgSkipReason = 'no-key' | 'bad-key' | 'duplicate-key' | 'own-key' | 'bad-endpoint';

export interface WgDesiredResult {
  readonly desired: DesiredWireguard;
  readonly skipped: readonly { readonly peer: string; readonly reason: WgSkipReason }[];
}

function endpointOf(ip: string, port: number): string | undefined {
  if (isIpv4(ip)) return `${ip}:${port}`;
  if (/^[0-9a-f:]+$/i.test(ip) && ip.includes(':')) return `[${ip.toLowerCase()}]:${port}`;
  return undefined;
}

/** Pure: the device, its key and one peer per node with a usable key; the rest listed with a reason. */
export function desiredWireguard(input: WgDesiredInput): WgDesiredResult {
  const skipped: { peer: string; reason: WgSkipReason }[] = [];
  const byKey = new Map<string, WgPeerInput>();
  const dup = new Set<string>();
  for (const p of input.peers) {
    if (p.publicKey === undefined) skipped.push({ peer: p.name, reason: 'no-key' });
    else if (!isWireguardKey(p.publicKey)) skipped.push({ peer: p.name, reason: 'bad-key' });
    else if (p.publicKey === input.publicKey) skipped.push({ peer: p.name, reason: 'own-key' });
    else if (byKey.has(p.publicKey)) dup.add(p.publicKey);
    else byKey.set(p.publicKey, p);
  }
  const keepalive = input.persistentKeepalive ?? WG_KEEPALIVE_S;
  const peers: WgPeerState[] = [];
  for (const [key, p] of byKey) {
    // Two nodes claiming one key: neither gets it (WireGuard keys a peer by its public key).
    if (dup.has(key)) {
      for (const q of input.peers)
        if (q.publicKey === key) skipped.push({ peer: q.name, reason: 'duplicate-key' });
      continue;
    }
    const endpoint = endpointOf(p.underlayIP, p.listenPort ?? input.listenPort);
    if (endpoint === undefined) {
      skipped.push({ peer: p.name, reason: 'bad-endpoint' });
      continue;
    }
    peers.push({
      publicKey: key,
      endpoint,
      allowedIPs: p.allowedIPs.map(canonicalAllowedIP).sort(),
      persistentKeepalive: keepalive === 0 ? undefined : keepalive,
    });
  }
  peers.sort((a, b) => (a.publicKey < b.publicKey ? -1 : a.publicKey > b.publicKey ? 1 : 0));
  return {
    desired: {
      link: {
        name: input.device,
        mtu: computeWgMtu(input.underlayMtu, input.underlayFamily),
        up: true,
        addresses: [...input.addresses].sort(),
      },
      config: { publicKey: input.publicKey, listenPort: input.listenPort, peers },
    },
    skipped,
  };
}
