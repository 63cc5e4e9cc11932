/**
 * The release check (.github/workflows/release.yml runs it on a tag before pushing the image):
 * the tag `v<version>` must equal package.json's version, the chart's version and appVersion,
 * and the tag of every image manifests/ runs, so that the image pushed is the one the manifests
 * and the chart pull. `node dist/scripts/release-version.js v0.1.0` exits 1 naming each mismatch.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAll, load as loadYaml } from 'js-yaml';
import { repoRoot } from '../e2e/cluster/prereq.js';
import { chartMetadata } from '../e2e/helm/chart.js';

/** Every image named in manifests/ (containers of every object, and the Kustomization's tag). */
export function manifestImages(root = repoRoot()): Array<{ where: string; image: string }> {
  const out: Array<{ where: string; image: string }> = [];
  for (const file of ['10-agent-daemonset.yaml', '20-controller-deployment.yaml']) {
    for (const doc of loadAll(readFileSync(join(root, 'manifests', file), 'utf8'))) {
      const o = doc as { spec?: { template?: { spec?: { containers?: Array<{ image: string }> } } } };
      for (const c of o.spec?.template?.spec?.containers ?? []) out.push({ where: file, image: c.image });
    }
  }
  const k = loadYaml(readFileSync(join(root, 'manifests', 'Kustomization'), 'utf8')) as {
    images: Array<{ name: string; newTag: string }>;
  };
  for (const i of k.images) out.push({ where: 'Kustomization', image: `${i.name}:${i.newTag}` });
  return out;
}

/** The mismatches between a release tag and the repository (empty: releasable). */
export function releaseMismatches(tag: string, root = repoRoot()): string[] {
  const m = /^v(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$/.exec(tag);
  if (!m) return [`tag ${tag} is not v<semver>`];
  const version = m[1] as string;
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const chart = chartMetadata(root);
  const found: Array<[string, string]> = [
    ['package.json version', pkg.version],
    ['charts/weft/Chart.yaml version', chart.version],
    ['charts/weft/Chart.yaml appVersion', chart.appVersion],
    ...manifestImages(root).map((i): [string, string] => [
      `manifests/${i.where} image ${i.image}`,
      i.image.slice(i.image.lastIndexOf(':') + 1),
    ]),
  ];
  return found.filter(([, v]) => v !== version).map(([what, v]) => `${what}: ${v}, the tag says ${version}`);
}

if (process.argv[1]?.endsWith('release-version.js')) {
  const tag = process.argv[2] ?? '';
  const bad = releaseMismatches(tag);
  for (const b of bad) process.stderr.write(`release-version: ${b}\n`);
  if (bad.length > 0) process.exit(1);
  process.stdout.write(`${tag.slice(1)}\n`);
}
