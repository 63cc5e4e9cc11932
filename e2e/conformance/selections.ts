/**
 * The spec selections of the upstream e2e suite (selections.json): what each one focuses
 * on, what it skips and why. Parsed once, validated, and resolved into the focus and skip
 * regular expressions ginkgo is given (pure).
 */
import { WeftError } from '../../common/errors.js';

/**
 * A spec's full text as the report and the spec lists compare it: whitespace runs
 * collapsed, no leading or trailing space (some upstream leaf texts end in a space,
 * which ginkgo's JUnit report drops).
 */
export function specName(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export class ConformanceError extends WeftError {}

/** A ginkgo focus or skip regular expression and why it is there. */
export interface Term {
  pattern: string;
  reason: string;
}

/** One spec left out by its full name. */
export interface SpecExclusion {
  name: string;
  reason: string;
}

/** The cluster a selection runs on: single-stack IPv4 (the default), dual-stack or IPv6-only. */
export type SelectionIpFamily = 'ipv4' | 'dual' | 'ipv6';
const IP_FAMILIES: readonly SelectionIpFamily[] = ['ipv4', 'dual', 'ipv6'];

export interface Selection {
  description: string;
  /** The cluster's IP families (selections.json `ipFamily`, default ipv4). */
  ipFamily: SelectionIpFamily;
  /** Another selection whose skip terms and exclusions come first. */
  extends?: string;
  focus: Term[];
  skip: Term[];
  excludedSpecs: SpecExclusion[];
  /** Terms of the list this one started from that it does NOT skip, with why. Documentation only. */
  notSkipped: Term[];
}

export interface Selections {
  kubernetesVersion: string;
  ginkgoVersion: string;
  cluster: string;
  selections: Record<string, Selection>;
}

/** A selection with its base folded in: everything a run or a listing needs. */
export interface ResolvedSelection {
  name: string;
  description: string;
  ipFamily: SelectionIpFamily;
  focus: Term[];
  skip: Term[];
  excludedSpecs: SpecExclusion[];
}

function fail(msg: string): never {
  throw new ConformanceError('ESELECTION', `selections: ${msg}`);
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string' || v === '') fail(`${where} must be a non-empty string`);
  return v;
}

function record(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${where} must be an object`);
  return v as Record<string, unknown>;
}

function list<T>(v: unknown, where: string, item: (x: unknown, w: string) => T): T[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail(`${where} must be an array`);
  return v.map((x, i) => item(x, `${where}[${i}]`));
}

function term(v: unknown, where: string): Term {
  const o = record(v, where);
  const pattern = str(o.pattern, `${where}.pattern`);
  try {
    new RegExp(pattern);
  } catch (err) {
    fail(`${where}.pattern ${JSON.stringify(pattern)} is not a regular expression: ${String(err)}`);
  }
  return { pattern, reason: str(o.reason, `${where}.reason`) };
}

function exclusion(v: unknown, where: string): SpecExclusion {
  const o = record(v, where);
  return { name: str(o.name, `${where}.name`), reason: str(o.reason, `${where}.reason`) };
}

function selection(v: unknown, where: string): Selection {
  const o = record(v, where);
  const focus = list(o.focus, `${where}.focus`, term);
  if (focus.length === 0) fail(`${where}.focus must name at least one pattern`);
  const ipFamily = o.ipFamily ?? 'ipv4';
  if (!IP_FAMILIES.includes(ipFamily as SelectionIpFamily)) {
    fail(`${where}.ipFamily must be one of ${IP_FAMILIES.join(', ')}, got ${JSON.stringify(o.ipFamily)}`);
  }
  const s: Selection = {
    description: str(o.description, `${where}.description`),
    ipFamily: ipFamily as SelectionIpFamily,
    focus,
    skip: list(o.skip, `${where}.skip`, term),
    excludedSpecs: list(o.excludedSpecs, `${where}.excludedSpecs`, exclusion),
    notSkipped: list(o.notSkipped, `${where}.notSkipped`, term),
  };
  if (o.extends !== undefined) s.extends = str(o.extends, `${where}.extends`);
  return s;
}

/** Validates the parsed selections.json; throws ConformanceError naming the bad field. */
export function parseSelections(json: unknown): Selections {
  const o = record(json, 'top level');
  const sels = record(o.selections, 'selections');
  const selections: Record<string, Selection> = {};
  for (const [name, v] of Object.entries(sels)) selections[name] = selection(v, `selections.${name}`);
  for (const [name, s] of Object.entries(selections)) {
    if (s.extends === undefined) continue;
    const base = selections[s.extends];
    if (base === undefined) fail(`selections.${name}.extends names unknown selection ${s.extends}`);
    if (base.extends !== undefined) fail(`selections.${name}.extends ${s.extends}, which extends again`);
  }
  return {
    kubernetesVersion: str(o.kubernetesVersion, 'kubernetesVersion'),
    ginkgoVersion: str(o.ginkgoVersion, 'ginkgoVersion'),
    cluster: str(o.cluster, 'cluster'),
    selections,
  };
}

/** The named selection with the skip terms and exclusions of the one it extends first. */
export function resolveSelection(all: Selections, name: string): ResolvedSelection {
  const s = all.selections[name];
  if (s === undefined) {
    const known = Object.keys(all.selections).join(', ');
    throw new ConformanceError('ESELECTION', `no selection ${name} (known: ${known})`);
  }
  const base = s.extends === undefined ? undefined : all.selections[s.extends];
  return {
    name,
    description: s.description,
    ipFamily: s.ipFamily,
    focus: s.focus,
    skip: [...(base?.skip ?? []), ...s.skip],
    excludedSpecs: [...(base?.excludedSpecs ?? []), ...s.excludedSpecs],
  };
}

/** Escapes a spec name so that it matches itself literally inside a regular expression. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The one focus expression (ginkgo ORs several --focus flags the same way). */
export function focusRegExp(sel: ResolvedSelection): string {
  return sel.focus.map((t) => t.pattern).join('|');
}

/** The one skip expression: every skip term, then every excluded spec by its literal name. */
export function skipRegExp(sel: ResolvedSelection): string {
  return [...sel.skip.map((t) => t.pattern), ...sel.excludedSpecs.map((e) => escapeRegExp(e.name))].join('|');
}
