import type { StatusJson } from './status.js';

function cell(v: string | number | null | undefined): string {
  return v === null || v === undefined ? '-' : String(v);
}

export function formatDuration(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms ago`;
  if (ms < 120_000) return `${Math.round(ms / 1000)}s ago`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)}m ago`;
  return `${Math.round(ms / 3_600_000)}h ago`;
}

export function formatRtt(ms: number | null): string {
  if (ms === null) return '-';
  return ms < 10 ? `${ms.toFixed(2)}ms` : `${Math.round(ms)}ms`;
}

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: readonly string[]) =>
    r
      .map((v, c) => v.padEnd(widths[c] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** The text form of `weft status`; pure. */
export function renderStatus(s: StatusJson): string {
  const n = s.node;
  const lines = [
    `Node:     ${n.name}${n.ready ? '' : ` (not ready: ${n.notReadyReason ?? 'unknown reason'})`}`,
    `Backend:  ${n.backend}   MTU: ${cell(n.mtu)}   Underlay: ${cell(n.underlayIP)}${n.underlayIP6 && n.underlayIP6 !== n.underlayIP ? `, ${n.underlayIP6}` : ''}${n.underlayInterface ? ` (${n.underlayInterface})` : ''}`,
    `PodCIDRs: ${n.podCIDRs.length > 0 ? n.podCIDRs.join(', ') : '-'}`,
  ];
  if (n.viewSource !== 'api') lines.push(`View:     ${VIEW_SOURCE_TEXT[n.viewSource]}`);
  if (s.ipam) lines.push(`IPAM:     ${s.ipam.allocated}/${s.ipam.capacity} addresses in use`);
  lines.push(`Gossip:   ${s.gossip.state} — ${s.gossip.detail}`);
  if (s.wireguard) lines.push(...renderWireguard(s.wireguard));
  lines.push('', `Peers: ${s.peers.length}${peerSummary(s)}`);
  if (s.peers.length > 0) lines.push(...renderPeers(s));
  return `${lines.join('\n')}\n`;
}

/**
 * The peer table. Dual-stack (this node or a peer has IPv6 underlay or routes) adds the
 * IPv6 route kind and underlay of each peer; an IPv4-only cluster's table is as before. An
 * IPv6-only node (its underlay is IPv6, ADR 19) has one family again: ROUTE is the route
 * kind of the IPv6 podCIDR, UNDERLAY the IPv6 address.
 */
function renderPeers(s: StatusJson): string[] {
  if (s.node.underlayIP?.includes(':')) {
    return table(
      SINGLE_FAMILY_HEADER,
      s.peers.map((p) => [p.name, p.state, cell(p.route6 ?? p.route), cell(p.underlayIP), ...seen(p)]),
    );
  }
  const ipv6 =
    s.node.underlayIP6 !== undefined ||
    s.peers.some((p) => p.route6 !== undefined || p.underlayIP6 !== undefined);
  const rows = s.peers.map((p) => [
    p.name,
    p.state,
    cell(p.route),
    ...(ipv6 ? [cell(p.route6)] : []),
    cell(p.underlayIP),
    ...(ipv6 ? [cell(p.underlayIP6)] : []),
    ...seen(p),
  ]);
  const header = ipv6
    ? ['NAME', 'STATE', 'ROUTE', 'ROUTE6', 'UNDERLAY', 'UNDERLAY6', 'LAST SEEN', 'RTT']
    : SINGLE_FAMILY_HEADER;
  return table(header, rows);
}

const SINGLE_FAMILY_HEADER = ['NAME', 'STATE', 'ROUTE', 'UNDERLAY', 'LAST SEEN', 'RTT'];

/** LAST SEEN and RTT of a peer. */
function seen(p: StatusJson['peers'][number]): string[] {
  return [formatDuration(p.lastSeenAgoMs), formatRtt(p.rttMs)];
}

/** "WireGuard: userspace (wireguard-go v0.0.…) weft.wg :51820 key …" and one line per peer. */
function renderWireguard(w: NonNullable<StatusJson['wireguard']>): string[] {
  const lines = [
    `WireGuard: ${w.implementation} (${w.detail})   ${w.device} :${cell(w.listenPort)}   key ${w.publicKey}`,
  ];
  for (const p of w.peers) {
    const hs =
      p.handshakeAgoS === null ? 'no handshake yet' : `handshake ${formatDuration(p.handshakeAgoS * 1000)}`;
    lines.push(`  ${p.name}  ${cell(p.endpoint)}  ${hs}  rx ${p.rxBytes} B  tx ${p.txBytes} B`);
  }
  for (const s of w.skipped) lines.push(`  ${s.peer}  left out: ${s.reason} (not sent in clear)`);
  return lines;
}

const VIEW_SOURCE_TEXT = {
  cache: 'from the disk cache (the API server has not answered since the agent started)',
  empty: 'empty (no answer from the API server yet, no cache)',
} as const;

/** " (2 alive, 1 dead)"; while gossip is off the peers' liveness is not known, and says so. */
function peerSummary(s: StatusJson): string {
  if (s.peers.length === 0) return '';
  if (s.gossip.state === 'off') return ' (liveness unknown: gossip off)';
  const counts = new Map<string, number>();
  for (const p of s.peers) counts.set(p.state, (counts.get(p.state) ?? 0) + 1);
  return ` (${[...counts].map(([k, v]) => `${v} ${k}`).join(', ')})`;
}
