/**
 * Writes manifests/ from charts/weft: `helm template` with the chart's default values, one file
 * per template, plus the Kustomization (docs/adr/0015-manifests-from-the-chart.md). The chart is
 * the one source; scripts/chart.test.ts fails when manifests/ differs from what this writes.
 * Run `node dist/scripts/manifests-from-chart.js --write` (helm: e2e/helm/build.sh, cached).
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../e2e/cluster/prereq.js';
import { helmTemplate, manifestsFiles } from '../e2e/helm/chart.js';

export const MANIFESTS_DIR = 'manifests';

/** What manifests/ must hold: file name → content. */
export async function expectedManifests(): Promise<Map<string, string>> {
  return manifestsFiles(await helmTemplate());
}

/** What manifests/ holds now: file name → content. */
export function currentManifests(root = repoRoot()): Map<string, string> {
  const dir = join(root, MANIFESTS_DIR);
  return new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}

async function write(): Promise<void> {
  const dir = join(repoRoot(), MANIFESTS_DIR);
  const files = await expectedManifests();
  for (const f of readdirSync(dir)) if (!files.has(f)) rmSync(join(dir, f));
  for (const [f, text] of files) writeFileSync(join(dir, f), text);
  process.stdout.write(`wrote ${[...files.keys()].map((f) => join(MANIFESTS_DIR, f)).join(' ')}\n`);
}

if (process.argv.includes('--write')) await write();
