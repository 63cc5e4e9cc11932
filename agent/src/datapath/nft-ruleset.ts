import {
  formatIpPrefix,
  type IpPrefix,
  parseIpPrefix,
  prefixContainsPrefix,
} from '../../../common/ip-prefix.js';
import type { NftChainState, NftMapState, NftSetState, NftTableState, PolicyContent } from './state.js';
import { markHex, TUNNEL_MARK } from './tunnel-reply.js';

export const NFT_FAMILY = 'inet';
export const NFT_TABLE = 'weft';

/** Rule identities; each rule carries its identity as its comment so observe can recognise it. */
export const RULE_MASQUERADE = 'weft-masquerade';
export const RULE_FORWARD_OUT = 'weft-forward-out';
export const RULE_FORWARD_IN = 'weft-forward-in';
/** Their IPv6 twins (a node with IPv6 pods, ADR 18). */
export const RULE_MASQUERADE6 = 'weft-masquerade6';
export const RULE_FORWARD_OUT6 = 'weft-forward-out6';
export const RULE_FORWARD_IN6 = 'weft-forward-in6';
export const RULE_POLICY_REPLY = 'weft-policy-reply';
export const RULE_POLICY_RELATED = 'weft-policy-related';
export const RULE_POLICY_EGRESS = 'weft-policy-egress';
export const RULE_POLICY_INGRESS = 'weft-policy-ingress';
export const RULE_POLICY_ND = 'weft-policy-nd';
/** Link-local unicast across the bridge: no pod address to judge it by, so it is dropped (dual-stack). */
export const ruleLinkLocal = (bridge: string) => `weft-policy-linklocal ${bridge}`;
export const RULE_POLICY_EGRESS6 = 'weft-policy-egress6';
export const RULE_POLICY_INGRESS6 = 'weft-policy-ingress6';

/** The NetworkPolicy dispatch maps (pod address → jump to its chain) and drop counters. */
export const POLICY_INGRESS_MAP = 'pol_ingress';
export const POLICY_EGRESS_MAP = 'pol_egress';
/** Their IPv6 twins (pods' IPv6 addresses in a dual-stack cluster); the chains they jump to are shared. */
export const POLICY_INGRESS6_MAP = 'pol_ingress6';
export const POLICY_EGRESS6_MAP = 'pol_egress6';
export const POLICY_DROP_INGRESS = 'pol_drop_ingress';
export const POLICY_DROP_EGRESS = 'pol_drop_egress';

/** Rule identities of the node-IP-over-VXLAN rules (ADR 14); they name what their text depends on. */
export const ruleNodeSnat = (underlayIP: string, vxlanName: string) =>
  `weft-node-snat ${underlayIP} ${vxlanName} mark-0`;
export const ruleTunnelMark = (vxlanName: string) => `weft-tunnel-mark ${vxlanName} ${markHex(TUNNEL_MARK)}`;
export const RULE_TUNNEL_REPLY = `weft-tunnel-reply ${markHex(TUNNEL_MARK)}`;
export const ruleClearGuard = (devs: readonly string[]) => `weft-clear-guard ${devs.join(',')}`;
export const ruleClearGuard6 = (devs: readonly string[]) => `weft-clear-guard6 ${devs.join(',')}`;

/** nft's spelling of the mark in rules. */
const NFT_MARK = `0x${TUNNEL_MARK.toString(16).padStart(8, '0')}`;

const BASE_RULE_TEXT: ReadonlyMap<string, string> = new Map([
  [RULE_MASQUERADE, 'ip saddr @cluster4 ip daddr != @nomasq4 masquerade fully-random'],
  [RULE_FORWARD_OUT, 'ip saddr @cluster4 accept'],
  [RULE_FORWARD_IN, 'ip daddr @cluster4 accept'],
  // Replies of a connection this node let through, and ICMP errors about it, pass.
  [RULE_POLICY_REPLY, 'ct direction reply accept'],
  [RULE_POLICY_RELATED, 'ct state related accept'],
  [RULE_POLICY_EGRESS, `ip saddr vmap @${POLICY_EGRESS_MAP}`],
  [RULE_POLICY_INGRESS, `ip daddr vmap @${POLICY_INGRESS_MAP}`],
  // Neighbour discovery is IPv6's ARP: never policed (conntrack leaves it untracked).
  [
    RULE_POLICY_ND,
    'icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } accept',
  ],
  [RULE_POLICY_EGRESS6, `ip6 saddr vmap @${POLICY_EGRESS6_MAP}`],
  [RULE_POLICY_INGRESS6, `ip6 daddr vmap @${POLICY_INGRESS6_MAP}`],
]);

/** The IPv6 rules' texts; the IPv4 ones stay as they were, byte for byte. */
const IPV6_RULE_TEXT: ReadonlyMap<string, string> = new Map([
  [RULE_MASQUERADE6, 'ip6 saddr @cluster6 ip6 daddr != @nomasq6 masquerade fully-random'],
  [RULE_FORWARD_OUT6, 'ip6 saddr @cluster6 accept'],
  [RULE_FORWARD_IN6, 'ip6 daddr @cluster6 accept'],
]);

/**
 * Drops CIDRs contained in another one and sorts the rest, so the list is a valid
 * interval-set body (no overlaps) and compares equal to what nft lists. One family
 * per list (a set has one type).
 */
export function collapseCidrs(cidrs: readonly string[]): string[] {
  const parsed = cidrs
    .map((c) => parseIpPrefix(c))
    .sort((a, b) => a.length - b.length || (a.network < b.network ? -1 : a.network > b.network ? 1 : 0));
  const kept: IpPrefix[] = [];
  for (const c of parsed) if (!kept.some((k) => prefixContainsPrefix(k, c))) kept.push(c);
  return kept.map(formatIpPrefix).sort();
}

export interface NftInputs {
  /**
   * Pod address space (cluster CIDRs and the own podCIDRs). Empty = an IPv6-only node (ADR 19):
   * no IPv4 set, forward, masquerade or clear-guard rule at all.
   */
  readonly cluster: readonly string[];
  /** Destinations reached without masquerade (cluster + nonMasqueradeCIDRs); undefined = masquerade off. */
  readonly noMasquerade: readonly string[] | undefined;
  /**
   * The IPv6 pod address space (IPv6 cluster CIDR and own IPv6 podCIDRs); absent or empty = no
   * IPv6 sets and rules at all, the table is the IPv4-only one.
   */
  readonly cluster6?: readonly string[];
  /** IPv6 destinations reached without masquerade; absent = no IPv6 masquerade. */
  readonly noMasquerade6?: readonly string[];
  /** NetworkPolicy hooks: dispatch maps, drop counters, policy rules first in forward, and input. */
  readonly networkPolicy: boolean;
  /** With networkPolicy, the node has IPv6 pods (an IPv6 podCIDR) on this bridge: the IPv6 dispatch too. */
  readonly policyIpv6?: { readonly bridge: string };
  /** The node's underlay IP and VXLAN device, when it has one: the node-IP-over-VXLAN chains (ADR 14). */
  readonly tunnel?: TunnelInputs;
  /** With encryption: pod traffic may leave only by these devices, or in clear to these podCIDRs. */
  readonly clearGuard?: ClearGuardInputs;
}

export interface ClearGuardInputs {
  /** The WireGuard device and the bridge. */
  readonly devices: readonly string[];
  /** podCIDRs reached in clear by configuration (crossSubnet: the direct peers'); sorted. */
  readonly clear: readonly string[];
  /** The same for IPv6 (with cluster6 only). */
  readonly clear6?: readonly string[];
}

export interface TunnelInputs {
  readonly underlayIP: string;
  readonly vxlanName: string;
}

/**
 * The two chains that keep node-IP-sourced traffic over VXLAN symmetric (ADR 14):
 * `node-snat` (nat postrouting, srcnat − 1) binds the node's underlay IP to
 * itself on the way into the tunnel, so no later nat chain (kube-proxy's
 * masquerade at srcnat) replaces it, and clears the packet mark: kube-proxy's
 * masquerade bit, which its own masquerade would have cleared, would otherwise
 * follow the packet into the VXLAN header (the device keeps the inner packet's
 * mark) and get the outer packet masqueraded — fully-random rewrote its UDP port
 * and left a bad checksum, the receiver dropped it; `tunnel-reply` (filter prerouting, mangle)
 * marks connections from non-pod sources that arrive over the tunnel and their
 * replies, which the fwmark rule routes back through the tunnel.
 */
function tunnelChains(t: TunnelInputs): NftChainState[] {
  return [
    {
      name: 'node-snat',
      type: 'nat',
      hook: 'postrouting',
      prio: 99,
      policy: 'accept',
      rules: [ruleNodeSnat(t.underlayIP, t.vxlanName)],
    },
    {
      name: 'tunnel-reply',
      type: 'filter',
      hook: 'prerouting',
      prio: -150,
      policy: 'accept',
      rules: [ruleTunnelMark(t.vxlanName), RULE_TUNNEL_REPLY],
    },
  ];
}

const ipSet =
  (type: 'ipv4_addr' | 'ipv6_addr') =>
  (name: string, elements: readonly string[]): NftSetState => ({ name, type, flags: 'interval', elements });
const ipv4Set = ipSet('ipv4_addr');
const ipv6Set = ipSet('ipv6_addr');
const byName = <T extends { readonly name: string }>(list: T[]): T[] =>
  list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

/**
 * The table as it should be: forward accept for pod traffic, masquerade when on,
 * and with NetworkPolicy the dispatch into per-pod chains (empty maps here; the
 * policy part comes from withPolicyContent).
 */
export function desiredNftTable(inputs: NftInputs): NftTableState {
  const v4 = inputs.cluster.length > 0;
  const sets: NftSetState[] = v4 ? [ipv4Set('cluster4', collapseCidrs(inputs.cluster))] : [];
  const v6 = hasIpv6(inputs);
  if (v6) sets.push(ipv6Set('cluster6', collapseCidrs(inputs.cluster6 ?? [])));
  const policy = inputs.networkPolicy;
  const forwardRules = [
    ...(v4 ? [RULE_FORWARD_OUT, RULE_FORWARD_IN] : []),
    ...(v6 ? [RULE_FORWARD_OUT6, RULE_FORWARD_IN6] : []),
  ];
  const chains: NftChainState[] = [
    {
      name: 'forward',
      type: 'filter',
      hook: 'forward',
      prio: 0,
      policy: 'accept',
      rules: policy
        ? [RULE_POLICY_REPLY, RULE_POLICY_RELATED, RULE_POLICY_EGRESS, RULE_POLICY_INGRESS, ...forwardRules]
        : forwardRules,
    },
  ];
  if (policy) {
    // Pod → this node's own addresses is egress too; it takes the input hook, not forward.
    chains.push({
      name: 'input',
      type: 'filter',
      hook: 'input',
      prio: 0,
      policy: 'accept',
      rules: [RULE_POLICY_REPLY, RULE_POLICY_RELATED, RULE_POLICY_EGRESS],
    });
  }
  if (inputs.tunnel) chains.push(...tunnelChains(inputs.tunnel));
  if (inputs.clearGuard) {
    // Whatever the routes say — the device gone with its routes while the agent restarts, a
    // hand-made route — nothing for the cluster leaves this node in clear unless configured.
    const { devices, clear, clear6 } = inputs.clearGuard;
    if (v4) sets.push(ipv4Set('clear4', collapseCidrs(clear)));
    if (v6) sets.push(ipv6Set('clear6', collapseCidrs(clear6 ?? [])));
    chains.push({
      name: 'clear-guard',
      type: 'filter',
      hook: 'postrouting',
      prio: 0,
      policy: 'accept',
      rules: [...(v4 ? [ruleClearGuard(devices)] : []), ...(v6 ? [ruleClearGuard6(devices)] : [])],
    });
  }
  if (inputs.noMasquerade !== undefined) {
    if (v4) sets.push(ipv4Set('nomasq4', collapseCidrs(inputs.noMasquerade)));
    const masq6 = v6 && inputs.noMasquerade6 !== undefined;
    if (masq6) sets.push(ipv6Set('nomasq6', collapseCidrs(inputs.noMasquerade6 ?? [])));
    chains.push({
      name: 'postrouting',
      type: 'nat',
      hook: 'postrouting',
      prio: 100,
      policy: 'accept',
      rules: [...(v4 ? [RULE_MASQUERADE] : []), ...(masq6 ? [RULE_MASQUERADE6] : [])],
    });
  }
  const maps: NftMapState[] = policy
    ? [
        { name: POLICY_EGRESS_MAP, type: 'ipv4_addr : verdict', elements: [] },
        { name: POLICY_INGRESS_MAP, type: 'ipv4_addr : verdict', elements: [] },
      ]
    : [];
  const table = {
    sets: byName(sets),
    maps,
    counters: policy ? [POLICY_DROP_EGRESS, POLICY_DROP_INGRESS] : [],
    chains: byName(chains),
  };
  return policy && inputs.policyIpv6 ? withIpv6PolicyDispatch(table, inputs.policyIpv6.bridge) : table;
}

/**
 * `table` (with the IPv4 policy dispatch) plus the IPv6 one: maps pol_egress6 and
 * pol_ingress6, and in forward and input, after the IPv4 vmap rules, neighbour
 * discovery accepted, link-local unicast from the bridge dropped (pods' fe80::
 * addresses are in no map: an isolated pod would be reachable at its own) and
 * the `ip6` vmap rules. IPv4 rules and maps are untouched.
 */
function withIpv6PolicyDispatch(table: NftTableState, bridge: string | undefined): NftTableState {
  if (table.maps.some((m) => m.name === POLICY_EGRESS6_MAP)) return table;
  const before6 = [RULE_POLICY_ND, ...(bridge === undefined ? [] : [ruleLinkLocal(bridge)])];
  const after = (rules: readonly string[], anchor: string, added: readonly string[]) => {
    const at = rules.indexOf(anchor) + 1;
    return [...rules.slice(0, at), ...added, ...rules.slice(at)];
  };
  const chains = table.chains.map((c) =>
    c.name === 'forward'
      ? {
          ...c,
          rules: after(c.rules, RULE_POLICY_INGRESS, [...before6, RULE_POLICY_EGRESS6, RULE_POLICY_INGRESS6]),
        }
      : c.name === 'input'
        ? { ...c, rules: after(c.rules, RULE_POLICY_EGRESS, [...before6, RULE_POLICY_EGRESS6]) }
        : c,
  );
  const maps: NftMapState[] = [
    ...table.maps,
    { name: POLICY_EGRESS6_MAP, type: 'ipv6_addr : verdict', elements: [] },
    { name: POLICY_INGRESS6_MAP, type: 'ipv6_addr : verdict', elements: [] },
  ];
  return { ...table, maps: byName(maps), chains };
}

/** Rule identity → text for the rules desiredNftTable(inputs) names (the policy part's come with it). */
export function nftRuleTexts(inputs: NftInputs): ReadonlyMap<string, string> {
  const bridge = inputs.policyIpv6?.bridge;
  const texts = nodeRuleTexts(inputs);
  if (bridge === undefined) return texts;
  return new Map([
    ...texts,
    [ruleLinkLocal(bridge), `iifname ${JSON.stringify(bridge)} ip6 daddr fe80::/10 drop`],
  ]);
}

/** True when the inputs name IPv6 pod addresses: then the table gets the IPv6 sets and rules. */
const hasIpv6 = (inputs: NftInputs): boolean => (inputs.cluster6?.length ?? 0) > 0;

/** The clear-guard rule of one family: cluster traffic out by another device than `devices`, unless to `clear`. */
function clearGuardText(family: 'ip' | 'ip6', devices: readonly string[]): string {
  const [cluster, clear] = family === 'ip' ? ['@cluster4', '@clear4'] : ['@cluster6', '@clear6'];
  const devs = devices.map((d) => JSON.stringify(d)).join(', ');
  return `${family} daddr ${cluster} oifname != { ${devs} } ${family} daddr != ${clear} drop`;
}

function nodeRuleTexts(inputs: NftInputs): ReadonlyMap<string, string> {
  const t = inputs.tunnel;
  const g = inputs.clearGuard;
  const v6 = hasIpv6(inputs);
  if (!t && !g && !v6) return BASE_RULE_TEXT;
  const base: [string, string][] = [...BASE_RULE_TEXT, ...(v6 ? IPV6_RULE_TEXT : [])];
  const guard: [string, string][] = g ? [[ruleClearGuard(g.devices), clearGuardText('ip', g.devices)]] : [];
  if (g && v6) guard.push([ruleClearGuard6(g.devices), clearGuardText('ip6', g.devices)]);
  if (!t) return new Map([...base, ...guard]);
  const dev = JSON.stringify(t.vxlanName);
  return new Map([
    ...base,
    ...guard,
    [
      ruleNodeSnat(t.underlayIP, t.vxlanName),
      `oifname ${dev} ip saddr ${t.underlayIP} meta mark set 0x00000000 snat ip to ${t.underlayIP}`,
    ],
    [
      ruleTunnelMark(t.vxlanName),
      `iifname ${dev} ct direction original ct state new ip saddr != @cluster4 ct mark set ct mark | ${NFT_MARK}`,
    ],
    [
      RULE_TUNNEL_REPLY,
      `ct direction reply ct mark & ${NFT_MARK} == ${NFT_MARK} meta mark set meta mark | ${NFT_MARK}`,
    ],
  ]);
}

/**
 * `table` with the policy sets, chains and map elements of `content` added.
 * Content with IPv6 pods to isolate brings the IPv6 dispatch along even where
 * desiredNftTable did not add it: a policed pod is never reachable over IPv6.
 */
export function withPolicyContent(table: NftTableState, content: PolicyContent): NftTableState {
  const byMap = new Map([
    [POLICY_INGRESS_MAP, content.ingress],
    [POLICY_EGRESS_MAP, content.egress],
    [POLICY_INGRESS6_MAP, content.ingress6 ?? []],
    [POLICY_EGRESS6_MAP, content.egress6 ?? []],
  ]);
  const ipv6 = (content.ingress6?.length ?? 0) + (content.egress6?.length ?? 0) > 0;
  // Without the node's part the bridge is unknown: the dispatch comes without the link-local drop.
  const base = ipv6 && table.maps.length > 0 ? withIpv6PolicyDispatch(table, undefined) : table;
  return {
    sets: byName([...base.sets, ...content.sets]),
    maps: base.maps.map((m) => ({ ...m, elements: byMap.get(m.name) ?? m.elements })),
    counters: base.counters,
    chains: byName([...base.chains, ...content.chains]),
  };
}

/** True when two tables need no change. */
export function nftTablesEqual(a: NftTableState | undefined, b: NftTableState | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** `set`/`map` declaration body lines. */
export function renderSetDecl(s: NftSetState | NftMapState): string {
  const flags = 'flags' in s && s.flags ? ` flags ${s.flags};` : '';
  return `type ${s.type};${flags}`;
}

/** One rule as nft text: its body and its identity as the comment. */
export function renderRule(id: string, rules: ReadonlyMap<string, string>): string {
  return `${rules.get(id) ?? ''} comment "${id}"`;
}

/**
 * One nft transaction that replaces the table whatever its current content:
 * create-if-missing, delete, define. Other tables (kube-proxy's) are untouched.
 */
export function renderNftReplace(table: NftTableState, rules: ReadonlyMap<string, string>): string {
  const lines = [`table ${NFT_FAMILY} ${NFT_TABLE} {}`, `delete table ${NFT_FAMILY} ${NFT_TABLE}`];
  lines.push(`table ${NFT_FAMILY} ${NFT_TABLE} {`);
  for (const c of table.counters) lines.push(`  counter ${c} { }`);
  for (const s of table.sets) {
    lines.push(`  set ${s.name} {`, `    ${renderSetDecl(s)}`);
    if (s.elements.length > 0) lines.push(`    elements = { ${s.elements.join(', ')} }`);
    lines.push('  }');
  }
  for (const m of table.maps) lines.push(`  map ${m.name} { ${renderSetDecl(m)} }`);
  // Regular chains first: base chains' maps jump into them.
  const ordered = [...table.chains.filter((c) => !c.hook), ...table.chains.filter((c) => c.hook)];
  for (const c of ordered) {
    lines.push(`  chain ${c.name} {`);
    if (c.hook) lines.push(`    type ${c.type} hook ${c.hook} priority ${c.prio}; policy ${c.policy};`);
    for (const id of c.rules) lines.push(`    ${renderRule(id, rules)}`);
    lines.push('  }');
  }
  lines.push('}');
  // Map elements jump into chains, so they follow the chains' definitions.
  for (const m of table.maps)
    if (m.elements.length > 0) lines.push(renderElements('add', m.name, m.elements));
  return `${lines.join('\n')}\n`;
}

/** `add element` / `delete element` of a set or map of the table. */
export function renderElements(verb: 'add' | 'delete', set: string, elements: readonly string[]): string {
  return `${verb} element ${NFT_FAMILY} ${NFT_TABLE} ${set} { ${elements.join(', ')} }`;
}

/** One nft transaction that removes the table if present. */
export function renderNftDelete(): string {
  return `table ${NFT_FAMILY} ${NFT_TABLE} {}\ndelete table ${NFT_FAMILY} ${NFT_TABLE}\n`;
}
