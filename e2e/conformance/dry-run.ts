/**
 * The spec list of a `--ginkgo.dry-run --ginkgo.json-report=…` run (pure): every It of
 * the suite with its full text, and whether the run's focus/skip would have run it.
 */
import { ConformanceError, specName } from './selections.js';

export interface DryRunSpec {
  /** Container texts and the It text joined by spaces, as ginkgo matches and reports them. */
  name: string;
  /** False when the run's focus/skip filtered the spec out. */
  wouldRun: boolean;
}

function fail(msg: string): never {
  throw new ConformanceError('EDRYRUN', `ginkgo JSON report: ${msg}`);
}

function texts(v: unknown, where: string): string[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v) || !v.every((t) => typeof t === 'string')) fail(`${where} is not a list of strings`);
  return v;
}

/** Parses the JSON report ginkgo writes (a list of suite reports); throws ConformanceError when malformed. */
export function parseDryRunReport(json: unknown): DryRunSpec[] {
  if (!Array.isArray(json)) fail('expected a list of suite reports');
  const specs: DryRunSpec[] = [];
  for (const [i, suite] of json.entries()) {
    const reports = (suite as { SpecReports?: unknown } | null)?.SpecReports;
    if (!Array.isArray(reports)) fail(`suite ${i} has no SpecReports`);
    for (const [j, r] of reports.entries()) {
      const rep = r as Record<string, unknown> | null;
      if (rep?.LeafNodeType !== 'It') continue;
      const where = `suite ${i} spec ${j}`;
      const leaf = rep.LeafNodeText;
      if (typeof leaf !== 'string') fail(`${where} has no LeafNodeText`);
      const name = specName(
        [...texts(rep.ContainerHierarchyTexts, `${where} ContainerHierarchyTexts`), leaf]
          .filter((t) => t !== '')
          .join(' '),
      );
      specs.push({ name, wouldRun: rep.State === 'passed' });
    }
  }
  return specs;
}
