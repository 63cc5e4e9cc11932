import type { ContainerPort, PolicyPort, Protocol } from './types.js';

/** One protocol's share of a rule's ports: every port of it, or these ports and ranges. */
export interface PortMatch {
  readonly protocol: Protocol;
  /** undefined = every port of the protocol; else "80", "8000-8080", sorted by number. */
  readonly ports: readonly string[] | undefined;
}

/** A port entry a rule cannot enforce (SCTP without kernel support): the index and why. */
export interface PortProblem {
  readonly index: number;
  readonly reason: string;
}

export interface PortContext {
  /** Resolves a named port; for ingress, the selected pod's container ports. */
  readonly named: (name: string, protocol: Protocol) => number | undefined;
  readonly sctp: boolean;
}

/** Container ports as a named-port resolver. */
export function namedPortsOf(ports: readonly ContainerPort[]): PortContext['named'] {
  return (name, protocol) => ports.find((p) => p.name === name && p.protocol === protocol)?.port;
}

/**
 * A rule's ports grouped per protocol, named ports resolved through `ctx`. An
 * empty result from a non-empty list means the rule allows nothing (no port
 * entry applies, e.g. a named port this pod does not have).
 */
export function computePortMatches(
  ports: readonly PolicyPort[],
  ctx: PortContext,
  problems: PortProblem[],
): PortMatch[] {
  const groups = new Map<Protocol, Set<string> | undefined>();
  ports.forEach((p, index) => {
    if (p.protocol === 'SCTP' && !ctx.sctp) {
      problems.push({ index, reason: 'SCTP is not supported by this node kernel' });
      return;
    }
    const had = groups.get(p.protocol);
    if (groups.has(p.protocol) && had === undefined) return; // already every port
    if (p.port === undefined) {
      groups.set(p.protocol, undefined);
      return;
    }
    const number = typeof p.port === 'number' ? p.port : ctx.named(p.port, p.protocol);
    if (number === undefined) return;
    const text = p.endPort !== undefined && p.endPort > number ? `${number}-${p.endPort}` : String(number);
    const set = had ?? new Set<string>();
    set.add(text);
    groups.set(p.protocol, set);
  });
  return [...groups].map(([protocol, set]) => ({
    protocol,
    ports: set ? [...set].sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10)) : undefined,
  }));
}

/** nft text of one port match: "meta l4proto tcp th dport { 80, 8000-8080 }". */
export function renderPortMatch(m: PortMatch): string {
  const proto = `meta l4proto ${m.protocol.toLowerCase()}`;
  if (!m.ports) return proto;
  return `${proto} th dport { ${m.ports.join(', ')} }`;
}
