import type { Netlink } from './netlink.js';
import type { LinkAddrs, LinkRecord, RouteRecord, RuleRecord } from './netlink-parse.js';
import { NFT_FAMILY, NFT_TABLE } from './nft-ruleset.js';
import type { BridgeState, DatapathState, IpRuleState, RouteState, VxlanState } from './state.js';
import { REPLY_TABLE } from './tunnel-reply.js';

export interface ObserveScope {
  readonly bridgeName: string;
  readonly vxlanName: string;
  /** Weft's route protocol number: only routes and rules carrying it are read. */
  readonly protocol: number;
  readonly sysctlKeys: readonly string[];
}

/** A device's addresses of both families; the kernel's own link-local IPv6 ones are not listed. */
function cidrsOf(addrs: readonly LinkAddrs[], name: string): string[] {
  const link = addrs.find((a) => a.name === name);
  return link ? [...link.cidrs, ...link.cidrs6].sort() : [];
}

function toBridge(link: LinkRecord, addrs: readonly LinkAddrs[]): BridgeState {
  return {
    name: link.name,
    kind: link.kind,
    mac: link.mac.toLowerCase(),
    mtu: link.mtu,
    up: link.up,
    addresses: cidrsOf(addrs, link.name),
  };
}

function toVxlan(link: LinkRecord, addrs: readonly LinkAddrs[]): VxlanState {
  const v = link.vxlan;
  return {
    name: link.name,
    kind: link.kind,
    vni: v?.vni ?? 0,
    port: v?.port ?? 0,
    local: v?.local ?? '',
    dev: v?.dev ?? '',
    mac: link.mac,
    learning: v?.learning ?? true,
    mtu: link.mtu,
    up: link.up,
    addresses: cidrsOf(addrs, link.name),
  };
}

const toRoute = (r: RouteRecord): RouteState => ({
  dst: r.dst.includes('/') || r.dst === 'default' ? r.dst : `${r.dst}/${r.dst.includes(':') ? 128 : 32}`,
  gateway: r.gateway ?? '',
  dev: r.dev ?? '',
  onlink: r.onlink,
  metric: r.metric,
});

/** A rule as `ip rule` lists it, in the shape plan compares. */
export const toRule = (r: RuleRecord): IpRuleState => ({
  priority: r.priority,
  iif: r.iif ?? '',
  fwmark: r.fwmark ?? '',
  fwmask: r.fwmask ?? '',
  table: r.table,
});

/**
 * Reads what Weft owns from the kernel: its two devices, the routes with its
 * protocol in the main table (both families) and the reply table (IPv4), the rules
 * with its protocol, permanent neighbours (both families) and FDB entries on its
 * VXLAN device, the sysctls it sets, and table inet weft. Nothing else is read, so
 * nothing else can end up in a plan.
 */
export async function observeDatapath(netlink: Netlink, scope: ObserveScope): Promise<DatapathState> {
  const [links, addrs, routes, routes6, replyRoutes, rules, sysctls, nft] = await Promise.all([
    netlink.listLinks(),
    netlink.listAddrs(),
    netlink.listRoutes(scope.protocol),
    netlink.listRoutes(scope.protocol, 'main', 6),
    netlink.listRoutes(scope.protocol, REPLY_TABLE),
    netlink.listRules(scope.protocol),
    netlink.readSysctls(scope.sysctlKeys),
    netlink.readNftTable(NFT_FAMILY, NFT_TABLE),
  ]);
  const bridgeLink = links.find((l) => l.name === scope.bridgeName);
  const vxlanLink = links.find((l) => l.name === scope.vxlanName);
  const [neighbours, fdb] = vxlanLink
    ? await Promise.all([netlink.listNeighbours(scope.vxlanName), netlink.listFdb(scope.vxlanName)])
    : [[], []];
  return {
    bridge: bridgeLink ? toBridge(bridgeLink, addrs) : undefined,
    vxlan: vxlanLink ? toVxlan(vxlanLink, addrs) : undefined,
    routes: [...routes, ...routes6].map(toRoute),
    replyRoutes: replyRoutes.map(toRoute),
    rules: rules.map(toRule),
    neighbours: neighbours
      .filter((n) => n.permanent && n.mac !== undefined)
      .map((n) => ({ dev: scope.vxlanName, ip: n.ip, mac: n.mac ?? '' })),
    fdb: fdb
      .filter((f) => f.dst !== undefined)
      .map((f) => ({ dev: scope.vxlanName, mac: f.mac, dst: f.dst ?? '' })),
    sysctls,
    nft,
  };
}
