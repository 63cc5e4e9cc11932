import { cidrContainsCidr, formatCidr, type Ipv4Cidr, parseCidr } from '../../../common/cidr.js';
import type { NftChainState, NftSetState, NftTableState } from './state.js';

export const NFT_FAMILY = 'inet';
export const NFT_TABLE = 'weft';

/** Rule identities; each rule carries its identity as its comment so observe can recognise it. */
export const RULE_MASQUERADE = 'weft-masquerade';
export const RULE_FORWARD_OUT = 'weft-forward-out';
export const RULE_FORWARD_IN = 'weft-forward-in';

const RULE_TEXT: Record<string, string> = {
  [RULE_MASQUERADE]: 'ip saddr @cluster4 ip daddr != @nomasq4 masquerade fully-random',
  [RULE_FORWARD_OUT]: 'ip saddr @cluster4 accept',
  [RULE_FORWARD_IN]: 'ip daddr @cluster4 accept',
};

/**
 * Drops CIDRs contained in another one and sorts the rest, so the list is a valid
 * interval-set body (no overlaps) and compares equal to what nft lists.
 */
export function collapseCidrs(cidrs: readonly string[]): string[] {
  const parsed = cidrs.map((c) => parseCidr(c)).sort((a, b) => a.prefix - b.prefix || a.network - b.network);
  const kept: Ipv4Cidr[] = [];
  for (const c of parsed) if (!kept.some((k) => cidrContainsCidr(k, c))) kept.push(c);
  return kept.map(formatCidr).sort();
}

export interface NftInputs {
  /** Pod address space (cluster CIDRs and the own podCIDRs). */
  readonly cluster: readonly string[];
  /** Destinations reached without masquerade (cluster + nonMasqueradeCIDRs); undefined = masquerade off. */
  readonly noMasquerade: readonly string[] | undefined;
}

/** The table as it should be: forward accept for pod traffic, and masquerade when on. */
export function desiredNftTable(inputs: NftInputs): NftTableState {
  const sets: NftSetState[] = [{ name: 'cluster4', elements: collapseCidrs(inputs.cluster) }];
  const chains: NftChainState[] = [
    {
      name: 'forward',
      type: 'filter',
      hook: 'forward',
      prio: 0,
      policy: 'accept',
      rules: [RULE_FORWARD_OUT, RULE_FORWARD_IN],
    },
  ];
  if (inputs.noMasquerade !== undefined) {
    sets.push({ name: 'nomasq4', elements: collapseCidrs(inputs.noMasquerade) });
    chains.push({
      name: 'postrouting',
      type: 'nat',
      hook: 'postrouting',
      prio: 100,
      policy: 'accept',
      rules: [RULE_MASQUERADE],
    });
  }
  return {
    sets: sets.sort((a, b) => a.name.localeCompare(b.name)),
    chains: chains.sort((a, b) => a.name.localeCompare(b.name)),
  };
}

/** True when two tables need no rewrite. */
export function nftTablesEqual(a: NftTableState | undefined, b: NftTableState | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * One nft transaction that replaces the table whatever its current content:
 * create-if-missing, delete, define. Other tables (kube-proxy's) are untouched.
 */
export function renderNftReplace(table: NftTableState): string {
  const lines = [`table ${NFT_FAMILY} ${NFT_TABLE} {}`, `delete table ${NFT_FAMILY} ${NFT_TABLE}`];
  lines.push(`table ${NFT_FAMILY} ${NFT_TABLE} {`);
  for (const s of table.sets) {
    lines.push(`  set ${s.name} {`, '    type ipv4_addr; flags interval;');
    if (s.elements.length > 0) lines.push(`    elements = { ${s.elements.join(', ')} }`);
    lines.push('  }');
  }
  for (const c of table.chains) {
    lines.push(
      `  chain ${c.name} {`,
      `    type ${c.type} hook ${c.hook} priority ${c.prio}; policy ${c.policy};`,
    );
    for (const id of c.rules) lines.push(`    ${RULE_TEXT[id] ?? ''} comment "${id}"`);
    lines.push('  }');
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** One nft transaction that removes the table if present. */
export function renderNftDelete(): string {
  return `table ${NFT_FAMILY} ${NFT_TABLE} {}\ndelete table ${NFT_FAMILY} ${NFT_TABLE}\n`;
}
