/**
 * charts/weft rendered by helm, and split back into the files of manifests/ (pure, apart from
 * running helm): manifests/<template file name> holds that template's objects, in order.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { load as loadYaml } from 'js-yaml';
import { repoRoot } from '../cluster/prereq.js';
import { runHelm } from './helm.js';

export const CHART_DIR = 'charts/weft';
/** The release name and namespace manifests/ is rendered with. */
export const RELEASE = 'weft';
export const NAMESPACE = 'weft-system';

export interface ChartOptions {
  /** Values files (paths relative to the repository or absolute), in order. */
  readonly valuesFiles?: readonly string[];
  /** `--set` assignments (key=value). */
  readonly set?: readonly string[];
  readonly namespace?: string;
}

/** `helm template` of the chart: its output text. */
export function helmTemplate(opts: ChartOptions = {}): Promise<string> {
  const root = repoRoot();
  const args = ['template', RELEASE, join(root, CHART_DIR), '--namespace', opts.namespace ?? NAMESPACE];
  for (const f of opts.valuesFiles ?? []) args.push('--values', resolve(root, f));
  for (const s of opts.set ?? []) args.push('--set', s);
  return runHelm(args);
}

/** Splits `helm template` output into template file name → its documents (each trimmed, in order). */
export function splitBySource(rendered: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const chunk of rendered.split(/^---\s*$/m)) {
    const m = /^\s*# Source: [^/\n]+\/templates\/([^\n]+)\n/.exec(chunk);
    if (!m) {
      if (chunk.trim() !== '')
        throw new Error(`helm output chunk without a "# Source:" line: ${chunk.slice(0, 80)}`);
      continue;
    }
    const file = m[1] as string;
    const body = chunk.slice(m[0].length).trim();
    if (body === '') continue;
    out.set(file, [...(out.get(file) ?? []), body]);
  }
  return out;
}

/** The objects of `helm template` output, parsed (comments and empty documents dropped). */
export function renderedObjects(rendered: string): Array<Record<string, unknown>> {
  return [...splitBySource(rendered).values()].flat().map((doc) => loadYaml(doc) as Record<string, unknown>);
}

export const GENERATED_HEADER =
  '# Generated from charts/weft with its default values by scripts/manifests-from-chart.ts:\n' +
  '# edit the chart, then run `node dist/scripts/manifests-from-chart.js --write`.\n';

/** The image of the first container of the rendered agent DaemonSet, as name and tag. */
export function renderedAgentImage(rendered: string): { name: string; tag: string } {
  const ds = renderedObjects(rendered).find((o) => o.kind === 'DaemonSet');
  const spec = ds?.spec as { template?: { spec?: { containers?: Array<{ image?: string }> } } } | undefined;
  const image = spec?.template?.spec?.containers?.[0]?.image;
  const at = image?.lastIndexOf(':') ?? -1;
  if (image === undefined || at < 0)
    throw new Error(`rendered agent DaemonSet has no image name:tag (${image})`);
  return { name: image.slice(0, at), tag: image.slice(at + 1) };
}

/**
 * The files of manifests/ (name → content) for `helm template` output with default values: one
 * file per template, and the Kustomization listing them with the image they run.
 */
export function manifestsFiles(rendered: string): Map<string, string> {
  const image = renderedAgentImage(rendered);
  const files = new Map<string, string>();
  for (const [file, docs] of splitBySource(rendered)) {
    files.set(file, `${GENERATED_HEADER}${docs.join('\n---\n')}\n`);
  }
  const resources = [...files.keys()].map((f) => `  - ${f}`).join('\n');
  files.set(
    'Kustomization',
    `${GENERATED_HEADER}# Named "Kustomization" (no extension) so that \`kubectl apply -f manifests/\` skips it
# while \`kubectl apply -k manifests/\` uses it.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
${resources}
images:
  - name: ${image.name}
    newTag: ${image.tag}
`,
  );
  return files;
}

/** The chart's Chart.yaml (version, appVersion). */
export function chartMetadata(root = repoRoot()): { version: string; appVersion: string } {
  return loadYaml(readFileSync(join(root, CHART_DIR, 'Chart.yaml'), 'utf8')) as {
    version: string;
    appVersion: string;
  };
}
