import type { IpRuleState, RouteState } from './state.js';

/**
 * Node-IP-sourced traffic over VXLAN (ADR 14). A host connection that kube-proxy
 * DNATs to a pod on a far node keeps the node's underlay IP as its source (an
 * identity SNAT in table inet weft, see nft-ruleset.ts); the far node marks such
 * connections when they arrive on its VXLAN device and routes their replies by
 * that mark back through the tunnel, so no pod-sourced packet rides the underlay.
 */

/**
 * The packet and conntrack mark bit (bit 12). Outside the bits others claim by
 * default: kube-proxy 0x4000 (masquerade) and 0x8000 (drop), Calico 0xffff0000
 * (iptablesMarkMask), Cilium 0x0f00 (its MARK_MAGIC_* values), Istio ambient's
 * ztunnel 0x040/0x100/0x200/0x210/0x220, the AWS VPC CNI 0x80, Tailscale 0xff0000.
 */
export const TUNNEL_MARK = 0x1000;

/** The routing table with one route per VXLAN peer's underlay IP; same number as the route protocol. */
export const REPLY_TABLE = 87;

/**
 * Preference of the fwmark rule: after the local table's rule (0, or 100 where
 * Cilium moves it), before main (32766). Only marked packets match it, and a
 * destination table 87 has no route for falls through to the next rule.
 */
export const REPLY_RULE_PREF = 1087;

/** The mark as `ip rule` prints it ("0x1000"). */
export const markHex = (mark: number): string => `0x${mark.toString(16)}`;

/**
 * The one fwmark rule Weft wants while it has a VXLAN device, for packets that
 * come in from the bridge (the pods' replies). Limited to that input device
 * because the VXLAN device encapsulates with the inner packet's mark: the outer
 * packet to the peer's underlay IP would otherwise match too, find the route
 * into the tunnel itself in table 87, and be dropped as a circular route.
 */
export function desiredReplyRule(bridgeName: string): IpRuleState {
  const mark = markHex(TUNNEL_MARK);
  return {
    priority: REPLY_RULE_PREF,
    iif: bridgeName,
    fwmark: mark,
    fwmask: mark,
    table: String(REPLY_TABLE),
  };
}

/** The table-87 route to a VXLAN peer's underlay IP through the peer's VTEP gateway. */
export function replyRoute(peerIP: string, gateway: string, vxlanName: string): RouteState {
  // VXLAN: onlink via the peer VTEP's address; WireGuard (layer 3, no gateway): the device alone.
  return { dst: `${peerIP}/32`, gateway, dev: vxlanName, onlink: gateway !== '', metric: 0 };
}

/**
 * The reverse-path filter of the VXLAN device, as sysctl takes a key whose
 * device name holds a dot ("net/ipv4/conf/weft.vxlan/rp_filter"). Loose (2):
 * packets from node IPs now arrive on it, which strict mode would drop, as
 * their reverse route leads out through the underlay interface.
 */
export const rpFilterKey = (dev: string): string => `net/ipv4/conf/${dev}/rp_filter`;
export const RP_FILTER_LOOSE = '2';

/** Rule identity fields that compare equal however the rule was written. */
export const sameRule = (a: IpRuleState, b: IpRuleState): boolean =>
  a.priority === b.priority &&
  a.iif === b.iif &&
  a.fwmark === b.fwmark &&
  a.fwmask === b.fwmask &&
  a.table === b.table;
