/**
 * Which specs of the suite a selection runs, and for every spec it focuses on but leaves
 * out, which term or exclusion does so and why (pure). Matches the way ginkgo v2 filters:
 * the regular expressions are tried against "<suite description> <spec text>".
 */
import type { ResolvedSelection } from './selections.js';

/** The description the upstream e2e suite passes to RunSpecs; ginkgo prefixes every spec text with it. */
export const SUITE_DESCRIPTION = 'Kubernetes e2e suite';

export interface ExcludedSpec {
  name: string;
  /** The skip pattern that matched first, or the spec's own name for an exclusion by name. */
  by: string;
  reason: string;
}

export interface SpecClassification {
  selected: string[];
  excluded: ExcludedSpec[];
}

/** Sorts and splits the suite's spec names into those the selection runs and those it leaves out. */
export function classifySpecs(names: readonly string[], sel: ResolvedSelection): SpecClassification {
  const focus = sel.focus.map((t) => new RegExp(t.pattern));
  const skip = sel.skip.map((t) => ({ term: t, re: new RegExp(t.pattern) }));
  const byName = new Map(sel.excludedSpecs.map((e) => [e.name, e.reason]));
  const selected: string[] = [];
  const excluded: ExcludedSpec[] = [];
  for (const name of [...names].sort()) {
    const text = `${SUITE_DESCRIPTION} ${name}`;
    if (!focus.some((re) => re.test(text))) continue;
    const reason = byName.get(name);
    if (reason !== undefined) {
      excluded.push({ name, by: name, reason });
      continue;
    }
    const hit = skip.find((s) => s.re.test(text));
    if (hit) excluded.push({ name, by: hit.term.pattern, reason: hit.term.reason });
    else selected.push(name);
  }
  return { selected, excluded };
}

/** Exclusions by name that match no spec: a renamed upstream spec would otherwise slip back in silently. */
export function unmatchedExclusions(names: readonly string[], sel: ResolvedSelection): string[] {
  const known = new Set(names);
  return sel.excludedSpecs.map((e) => e.name).filter((n) => !known.has(n));
}
