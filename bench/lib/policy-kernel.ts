/**
 * What of a compiled NetworkPolicy is in a node's table inet weft, as read back
 * from the kernel (`nft -j list table inet weft` through the agent's own
 * parser). Pure: counts, and the differences from what was compiled.
 */
import { POLICY_EGRESS_MAP, POLICY_INGRESS_MAP } from '../../agent/src/datapath/nft-ruleset.js';
import type { NftTableState, PolicyContent } from '../../agent/src/datapath/state.js';

/** Sizes of one node's table, with the chain that judges the measured pod's new connections. */
export interface KernelCounts {
  readonly chains: number;
  readonly rules: number;
  readonly sets: number;
  readonly setElements: number;
  readonly ingressMapElements: number;
  readonly egressMapElements: number;
  /** Rules of the measured pod's verdict chain (egress on n1, ingress on n2); 0 without one. */
  readonly measuredChainRules: number;
}

const mapSize = (t: NftTableState, name: string) => t.maps.find((m) => m.name === name)?.elements.length ?? 0;

export function kernelCounts(table: NftTableState, measuredChain: string | undefined): KernelCounts {
  return {
    chains: table.chains.length,
    rules: table.chains.reduce((n, c) => n + c.rules.length, 0),
    sets: table.sets.length,
    setElements: table.sets.reduce((n, s) => n + s.elements.length, 0),
    ingressMapElements: mapSize(table, POLICY_INGRESS_MAP),
    egressMapElements: mapSize(table, POLICY_EGRESS_MAP),
    measuredChainRules: table.chains.find((c) => c.name === measuredChain)?.rules.length ?? 0,
  };
}

/**
 * Where the kernel's table differs from the compiled policy part: a chain or
 * set missing or of another size, a dispatch map entry missing or extra.
 * Empty when every compiled piece is there.
 */
export function policyDifferences(table: NftTableState, content: PolicyContent): string[] {
  const sizes = (
    kind: string,
    got: readonly { name: string; size: number }[],
    want: readonly { name: string; size: number }[],
    unit: string,
  ) => {
    const have = new Map(got.map((g) => [g.name, g.size]));
    return want.flatMap((w) => {
      const n = have.get(w.name);
      if (n === undefined) return [`${kind} ${w.name} missing`];
      return n === w.size ? [] : [`${kind} ${w.name}: ${n} ${unit}, compiled ${w.size}`];
    });
  };
  const chains = (cs: NftTableState['chains']) => cs.map((c) => ({ name: c.name, size: c.rules.length }));
  const sets = (ss: NftTableState['sets']) => ss.map((s) => ({ name: s.name, size: s.elements.length }));
  const out = [
    ...sizes('chain', chains(table.chains), chains(content.chains), 'rules'),
    ...sizes('set', sets(table.sets), sets(content.sets), 'elements'),
  ];
  for (const [map, want] of [
    [POLICY_INGRESS_MAP, content.ingress],
    [POLICY_EGRESS_MAP, content.egress],
  ] as const) {
    const got = new Set(table.maps.find((m) => m.name === map)?.elements ?? []);
    const missing = want.filter((e) => !got.has(e));
    const extra = got.size - (want.length - missing.length);
    if (missing.length > 0) out.push(`map ${map}: ${missing.length} entries missing, e.g. ${missing[0]}`);
    if (extra > 0) out.push(`map ${map}: ${extra} entries not compiled`);
  }
  return out;
}

export interface NodeCheck extends KernelCounts {
  /** Policies that select at least one pod of the node. */
  readonly enforcedPolicies: number;
}

/** One level's application as checked before it is measured. */
export interface LevelCheck {
  readonly n1: NodeCheck;
  readonly n2: NodeCheck;
  /** New connections refused under policy (they pass without): unselected → srv, cli → unselected. */
  readonly refused: { readonly ingressAtN2: boolean; readonly egressAtN1: boolean };
  /** Compile + sync of both nodes, in ms. */
  readonly applyMs: number;
}
