/**
 * Command lines for the upstream e2e binary (pure). A run goes through the ginkgo CLI
 * (parallel processes, Serial specs last); a listing runs the test binary itself in
 * dry-run mode, which needs no cluster.
 */
import { join } from 'node:path';
import { focusRegExp, type ResolvedSelection, skipRegExp } from './selections.js';

export interface RunCommandOptions {
  /** The ginkgo CLI of the same ginkgo version as the test binary. */
  ginkgo: string;
  testBinary: string;
  selection: ResolvedSelection;
  /** Parallel ginkgo processes; specs marked [Serial] still run alone at the end. */
  nodes: number;
  kubeconfig: string;
  /** The e2e framework writes junit_01.xml here (see junitReportPath). */
  reportDir: string;
  /** `local` lets SSH-based specs try (and skip without a key); `skeleton` skips them outright. */
  provider?: string;
  /** Ginkgo's suite timeout (its default of 1h is too short for a full selection). */
  timeout?: string;
  /** Further e2e framework flags, e.g. `--dns-domain=…`. */
  extraE2eArgs?: readonly string[];
}

/** The e2e framework's JUnit report for a run with --report-dir (failure text, no labels in names). */
export function junitReportPath(reportDir: string): string {
  return join(reportDir, 'junit_01.xml');
}

/** argv of a ginkgo run of the selection against a cluster. */
export function buildRunCommand(o: RunCommandOptions): string[] {
  if (!Number.isInteger(o.nodes) || o.nodes < 1) {
    throw new RangeError(`nodes must be a positive integer, got ${o.nodes}`);
  }
  const skip = skipRegExp(o.selection);
  return [
    o.ginkgo,
    `--nodes=${o.nodes}`,
    `--focus=${focusRegExp(o.selection)}`,
    ...(skip === '' ? [] : [`--skip=${skip}`]),
    `--timeout=${o.timeout ?? '4h'}`,
    '--no-color',
    '--silence-skips',
    o.testBinary,
    '--',
    `--kubeconfig=${o.kubeconfig}`,
    `--provider=${o.provider ?? 'local'}`,
    `--report-dir=${o.reportDir}`,
    ...(o.extraE2eArgs ?? []),
  ];
}

export interface DryRunCommandOptions {
  testBinary: string;
  /** Focus expression; the listing applies the skips itself so that it can say why. */
  focus: string;
  skip?: string;
  jsonReport: string;
}

/** argv of a dry run that lists the specs a focus/skip would run into a ginkgo JSON report. */
export function buildDryRunCommand(o: DryRunCommandOptions): string[] {
  return [
    o.testBinary,
    '--ginkgo.dry-run',
    '--ginkgo.no-color',
    `--ginkgo.focus=${o.focus}`,
    ...(o.skip === undefined || o.skip === '' ? [] : [`--ginkgo.skip=${o.skip}`]),
    `--ginkgo.json-report=${o.jsonReport}`,
  ];
}

/** argv as one line a POSIX shell reads back as the same argv. */
export function formatCommand(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w./:=@%+,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
