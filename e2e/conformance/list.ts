/**
 * The spec list of a selection, from dry runs of the e2e binary (no cluster needed): the
 * focused specs are classified here, so that every exclusion carries its reason, and a
 * second dry run with the skip applied checks that ginkgo (Go regexps) agrees.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../cluster/exec.js';
import { classifySpecs, type ExcludedSpec, unmatchedExclusions } from './classify.js';
import { buildDryRunCommand } from './command.js';
import { type DryRunSpec, parseDryRunReport } from './dry-run.js';
import { ConformanceError, focusRegExp, type ResolvedSelection, skipRegExp } from './selections.js';

export interface SpecList {
  count: number;
  selected: string[];
  excluded: ExcludedSpec[];
}

/** specs.json: what `npm run conformance -- list` recorded for every selection. */
export interface SpecsFile {
  kubernetesVersion: string;
  generatedBy: string;
  selections: Record<string, SpecList>;
}

async function dryRun(testBinary: string, focus: string, skip: string, dir: string): Promise<DryRunSpec[]> {
  const jsonReport = join(dir, `report-${Date.now()}.json`);
  const argv = buildDryRunCommand({ testBinary, focus, skip, jsonReport });
  const r = await runCommand(argv, { timeoutMs: 120_000 });
  if (r.code !== 0) {
    throw new ConformanceError(
      'EDRYRUN',
      `${argv.join(' ')} exited ${r.code}: ${r.stderr.trim().slice(-2000)}`,
    );
  }
  return parseDryRunReport(JSON.parse(await readFile(jsonReport, 'utf8')));
}

function difference(a: Iterable<string>, b: ReadonlySet<string>): string[] {
  return [...a].filter((x) => !b.has(x));
}

/** Lists the selection's specs with the test binary's dry run; throws when ginkgo and the classifier disagree. */
export async function listSelection(testBinary: string, sel: ResolvedSelection): Promise<SpecList> {
  const dir = await mkdtemp(join(tmpdir(), 'weft-conformance-'));
  try {
    const focus = focusRegExp(sel);
    const all = await dryRun(testBinary, focus, '', dir);
    const names = all.map((s) => s.name);
    const stale = unmatchedExclusions(names, sel);
    if (stale.length > 0) {
      throw new ConformanceError(
        'ESTALE',
        `${sel.name}: excluded specs not in the suite: ${stale.join('; ')}`,
      );
    }
    const { selected, excluded } = classifySpecs(names, sel);
    const ginkgo = new Set(
      (await dryRun(testBinary, focus, skipRegExp(sel), dir)).filter((s) => s.wouldRun).map((s) => s.name),
    );
    const mine = new Set(selected);
    const onlyGinkgo = difference(ginkgo, mine);
    const onlyMine = difference(mine, ginkgo);
    if (onlyGinkgo.length > 0 || onlyMine.length > 0) {
      throw new ConformanceError(
        'EDISAGREE',
        `${sel.name}: ginkgo runs ${ginkgo.size} specs, the classifier ${mine.size}; ` +
          `only ginkgo: ${onlyGinkgo.join('; ') || '-'}; only classifier: ${onlyMine.join('; ') || '-'}`,
      );
    }
    return { count: selected.length, selected, excluded };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
