import { ipv6Sysctls } from './ipv6-sysctls.js';
import { collapseCidrs, type NftInputs } from './nft-ruleset.js';
import type { OwnIpv6 } from './peer-routes.js';
import type { PeerPlan } from './peer-select.js';
import { RP_FILTER_LOOSE, rpFilterKey } from './tunnel-reply.js';
import type { DatapathConfig } from './types.js';
import { canonicalCidr } from './vtep.js';

/**
 * The node-wide parts of desired(): the inputs of table inet weft and the sysctls. Pure. Each
 * family's part exists only when the node has pods of that family: an IPv6-only node (ADR 19)
 * gets no IPv4 set, rule or forwarding sysctl; IPv4-only and dual-stack nodes get what they had.
 */

export const IP_FORWARD = 'net.ipv4.ip_forward';
/** br_netfilter: bridged pod↔pod traffic of one node passes the inet forward hook (NetworkPolicy, ADR 12). */
export const BRIDGE_NF_CALL = 'net.bridge.bridge-nf-call-iptables';
/** Its IPv6 twin, for nodes with IPv6 pods. */
export const BRIDGE_NF_CALL6 = 'net.bridge.bridge-nf-call-ip6tables';

const isV4Cidr = (c: string) => !c.includes(':');

/** What the node-wide parts depend on. */
export interface HostInputs {
  /** Own IPv4 podCIDRs (none on an IPv6-only node). */
  readonly own: readonly string[];
  readonly own6: OwnIpv6;
  readonly config: DatapathConfig;
  readonly usable: readonly PeerPlan[];
  /** The node's underlay IP and tunnel device for ADR 14 (IPv4 underlay only), if any. */
  readonly tunnel: { readonly underlayIP: string; readonly vxlanName: string } | undefined;
  /** Whether the WireGuard device is wanted (encryption on). */
  readonly wireguard: boolean;
  readonly underlayIface: string;
}

/** The inputs of table inet weft (nft-ruleset.ts). */
export function hostNftInputs(h: HostInputs): NftInputs {
  const { own, own6, config, usable } = h;
  const cluster = own.length === 0 ? [] : collapseCidrs([...config.clusterCIDRs.filter(isV4Cidr), ...own]);
  const cluster6 = collapseCidrs([...config.clusterCIDRs.filter((c) => !isV4Cidr(c)), ...own6.podCIDRs]);
  const nonMasq6 = config.nonMasqueradeCIDRs.filter((c) => !isV4Cidr(c)).map(canonicalCidr);
  const nonMasq4 = own.length === 0 ? [] : config.nonMasqueradeCIDRs.filter(isV4Cidr).map(canonicalCidr);
  return {
    cluster,
    noMasquerade: config.masquerade ? [...cluster, ...nonMasq4] : undefined,
    ...(cluster6.length > 0 ? { cluster6 } : {}),
    ...(cluster6.length > 0 && config.masquerade ? { noMasquerade6: [...cluster6, ...nonMasq6] } : {}),
    networkPolicy: config.networkPolicy,
    ...(own6.podCIDRs.length > 0 ? { policyIpv6: { bridge: config.bridgeName } } : {}),
    ...(h.tunnel ? { tunnel: h.tunnel } : {}),
    ...(h.wireguard
      ? {
          clearGuard: {
            devices: [config.wireguardName, config.bridgeName],
            clear: usable.filter((u) => u.route === 'direct').flatMap((u) => u.facts.dsts),
            clear6: usable.filter((u) => u.route6 === 'direct').flatMap((u) => u.facts.dsts6),
          },
        }
      : {}),
  };
}

/** The sysctls the node needs, in the order they are written. */
export function hostSysctls(h: HostInputs): Map<string, string> {
  const { own, own6, config } = h;
  const sysctls = new Map<string, string>();
  if (own.length > 0) sysctls.set(IP_FORWARD, '1');
  // Also on an IPv6-only node: the IPv4 key is the one that tells whether br_netfilter is loaded.
  if (config.networkPolicy) sysctls.set(BRIDGE_NF_CALL, '1');
  if (config.networkPolicy && own6.podCIDRs.length > 0) sysctls.set(BRIDGE_NF_CALL6, '1');
  if (h.tunnel) sysctls.set(rpFilterKey(h.tunnel.vxlanName), RP_FILTER_LOOSE);
  if (own6.podCIDRs.length > 0) for (const [k, v] of ipv6Sysctls(h.underlayIface)) sysctls.set(k, v);
  return sysctls;
}
