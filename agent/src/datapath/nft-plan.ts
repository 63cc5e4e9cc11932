import {
  NFT_FAMILY,
  NFT_TABLE,
  nftTablesEqual,
  renderElements,
  renderNftReplace,
  renderRule,
  renderSetDecl,
} from './nft-ruleset.js';
import type { NftChainState, NftSetState, NftTableState } from './state.js';

/** What to run against table inet weft: nothing, a full rewrite, or an update with a rewrite to fall back on. */
export type NftChange =
  | { readonly kind: 'replace'; readonly script: string }
  | { readonly kind: 'update'; readonly script: string; readonly fallback: string | undefined };

const T = `${NFT_FAMILY} ${NFT_TABLE}`;
const isBase = (c: NftChainState) => c.hook !== '';
const index = <X extends { readonly name: string }>(list: readonly X[]) =>
  new Map(list.map((x) => [x.name, x]));
const sameRules = (a: NftChainState, b: NftChainState) =>
  a.rules.length === b.rules.length && a.rules.every((r, i) => r === b.rules[i]);

/** `want` minus `have`, both sorted lists of distinct strings (one merge walk). */
function missingFrom(want: readonly string[], have: readonly string[]): string[] {
  const out: string[] = [];
  let j = 0;
  for (const w of want) {
    while (j < have.length && (have[j] as string) < w) j++;
    if (have[j] !== w) out.push(w);
  }
  return out;
}

/**
 * True when `observed` can be brought to `desired` by element, chain and set
 * updates: the same base chains (hooks, priorities, rules), counters and maps,
 * and no set whose type or flags changed.
 */
export function sameSkeleton(desired: NftTableState, observed: NftTableState): boolean {
  const bases = (t: NftTableState) => t.chains.filter(isBase);
  const maps = (t: NftTableState) => t.maps.map((m) => [m.name, m.type]);
  if (JSON.stringify(bases(desired)) !== JSON.stringify(bases(observed))) return false;
  if (JSON.stringify(desired.counters) !== JSON.stringify(observed.counters)) return false;
  if (JSON.stringify(maps(desired)) !== JSON.stringify(maps(observed))) return false;
  const have = index(observed.sets);
  return desired.sets.every((s) => {
    const h = have.get(s.name);
    return !h || (h.type === s.type && h.flags === s.flags);
  });
}

function pushElementDiff(lines: string[], name: string, want: readonly string[], have: readonly string[]) {
  const del = missingFrom(have, want);
  const add = missingFrom(want, have);
  if (del.length > 0) lines.push(renderElements('delete', name, del));
  if (add.length > 0) lines.push(renderElements('add', name, add));
}

/**
 * The update script from `observed` to `desired` (same skeleton): new sets and
 * chains declared, set elements added and deleted, changed chains flushed and
 * refilled, map elements swapped, then what is no longer wanted removed — in
 * an order where nothing is referenced before it exists or deleted while used.
 */
export function renderNftUpdate(
  desired: NftTableState,
  observed: NftTableState,
  rules: ReadonlyMap<string, string>,
): string {
  const lines: string[] = [];
  const haveSets = index(observed.sets);
  const haveChains = index(observed.chains);
  const wantSets = index(desired.sets);
  const wantChains = index(desired.chains);
  const regular = desired.chains.filter((c) => !isBase(c));
  for (const s of desired.sets)
    if (!haveSets.has(s.name)) lines.push(`add set ${T} ${s.name} { ${renderSetDecl(s)} }`);
  for (const c of regular) if (!haveChains.has(c.name)) lines.push(`add chain ${T} ${c.name}`);
  for (const s of desired.sets)
    pushElementDiff(lines, s.name, s.elements, haveSets.get(s.name)?.elements ?? []);
  for (const c of regular) {
    const have = haveChains.get(c.name);
    if (have && sameRules(have, c)) continue;
    if (have) lines.push(`flush chain ${T} ${c.name}`);
    for (const id of c.rules) lines.push(`add rule ${T} ${c.name} ${renderRule(id, rules)}`);
  }
  const haveMaps = index(observed.maps);
  // Map elements: stale out before new in (a key whose verdict changed is both).
  for (const m of desired.maps)
    pushElementDiff(lines, m.name, m.elements, haveMaps.get(m.name)?.elements ?? []);
  for (const c of observed.chains) {
    if (isBase(c) || wantChains.has(c.name)) continue;
    lines.push(`flush chain ${T} ${c.name}`, `delete chain ${T} ${c.name}`);
  }
  for (const s of observed.sets) if (!wantSets.has(s.name)) lines.push(`delete set ${T} ${s.name}`);
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

/**
 * `desired` with the policy part the kernel has (sets and regular chains it does
 * not name, the dispatch maps' elements): what to aim for while the policy
 * engine has not synced, so that the rules in force stay in force.
 */
export function keepObservedPolicy(desired: NftTableState, observed: NftTableState): NftTableState {
  const wantSets = index(desired.sets);
  const wantChains = index(desired.chains);
  const haveMaps = index(observed.maps);
  const sets: NftSetState[] = [...desired.sets, ...observed.sets.filter((s) => !wantSets.has(s.name))];
  const chains: NftChainState[] = [
    ...desired.chains,
    ...observed.chains.filter((c) => !isBase(c) && !wantChains.has(c.name)),
  ];
  const byName = (a: { name: string }, b: { name: string }) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  return {
    sets: sets.sort(byName),
    maps: desired.maps.map((m) => ({ ...m, elements: haveMaps.get(m.name)?.elements ?? [] })),
    counters: desired.counters,
    chains: chains.sort(byName),
  };
}

/**
 * What to change in table inet weft. Pure. No table: create it. Same skeleton:
 * an update (element adds and deletes, chain refills), with the full rewrite as
 * its fallback. Otherwise a full rewrite — except while the policy part is
 * pending: then the policy rules in the kernel cannot be re-created, so the
 * table is left as it is until the policy engine has synced (ADR 13).
 */
export function planNft(
  desired: NftTableState,
  rules: ReadonlyMap<string, string>,
  observed: NftTableState | undefined,
  policyPending: boolean,
): NftChange | undefined {
  if (!observed) return { kind: 'replace', script: renderNftReplace(desired, rules) };
  const target = policyPending ? keepObservedPolicy(desired, observed) : desired;
  if (nftTablesEqual(target, observed)) return undefined;
  if (!sameSkeleton(target, observed)) {
    return policyPending ? undefined : { kind: 'replace', script: renderNftReplace(desired, rules) };
  }
  const script = renderNftUpdate(target, observed, rules);
  if (script === '') return undefined;
  return { kind: 'update', script, fallback: policyPending ? undefined : renderNftReplace(desired, rules) };
}
