import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { load as loadYaml } from 'js-yaml';
import { repoRoot } from '../e2e/cluster/prereq.js';
import { chartMetadata } from '../e2e/helm/chart.js';
import { manifestImages, releaseMismatches } from './release-version.js';

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  on: { push?: { tags?: string[]; branches?: string[] } };
  env: Record<string, string>;
  permissions: Record<string, string>;
  jobs: Record<string, { steps: Step[] }>;
}

const root = repoRoot();
const workflow = loadYaml(readFileSync(join(root, '.github/workflows/release.yml'), 'utf8')) as Workflow;
const steps = Object.values(workflow.jobs).flatMap((j) => j.steps);
const packageVersion = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string })
  .version;

function step(uses: string): Step {
  const s = steps.find((x) => x.uses?.startsWith(`${uses}@`));
  assert.ok(s, `release.yml has no ${uses} step`);
  return s;
}

describe('.github/workflows/release.yml', () => {
  it('runs on version tags only', () => {
    assert.deepEqual(workflow.on.push?.tags, ['v*']);
    assert.equal(workflow.on.push?.branches, undefined);
  });

  it('pushes the image that manifests/ and the chart pull, tagged with the version', () => {
    const push = step('docker/build-push-action');
    assert.equal(push.with?.push, true);
    assert.equal(push.with?.file, 'Dockerfile');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a JS template
    assert.equal(push.with?.tags, '${{ env.IMAGE }}:${{ steps.version.outputs.version }}');
    const images = manifestImages(root);
    assert.ok(
      images.length >= 3,
      'manifests/ names the image in the DaemonSet, the Deployment, the Kustomization',
    );
    for (const i of images) {
      assert.equal(i.image, `${workflow.env.IMAGE}:${packageVersion}`, `${i.where} runs ${i.image}`);
    }
    assert.equal(workflow.permissions.packages, 'write');
  });

  it('builds for linux/amd64 and linux/arm64, with QEMU for the foreign one', () => {
    const platforms = String(step('docker/build-push-action').with?.platforms).split(',').sort();
    assert.deepEqual(platforms, ['linux/amd64', 'linux/arm64']);
    assert.match(String(step('docker/setup-qemu-action').with?.platforms), /arm64/);
    step('docker/setup-buildx-action');
    const login = step('docker/login-action');
    assert.equal(login.with?.registry, workflow.env.IMAGE?.split('/')[0]);
  });

  it('checks the tag before it builds, and takes the image tag from that check', () => {
    const check = steps.findIndex((s) => s.id === 'version');
    const build = steps.findIndex((s) => s.uses?.startsWith('docker/build-push-action@'));
    assert.ok(check >= 0 && check < build, 'the version step comes before the build');
    assert.match(steps[check]?.run ?? '', /node dist\/scripts\/release-version\.js "\$GITHUB_REF_NAME"/);
    assert.match(steps[check]?.run ?? '', /echo "version=\$version" >> "\$GITHUB_OUTPUT"/);
  });

  it('publishes the chart of the same version', () => {
    const run = steps.map((s) => s.run ?? '').join('\n');
    assert.match(run, /helm package charts\/weft/);
    assert.match(run, /helm push "dist\/release\/weft-\$VERSION\.tgz"/);
    const chart = chartMetadata(root);
    assert.equal(chart.version, packageVersion);
    assert.equal(chart.appVersion, packageVersion);
  });
});

describe('the release check (scripts/release-version.ts)', () => {
  it('passes for v<package.json version>', () => {
    assert.deepEqual(releaseMismatches(`v${packageVersion}`, root), []);
  });

  it('names every place that disagrees with the tag', () => {
    const bad = releaseMismatches('v9.9.9', root);
    for (const what of [
      'package.json',
      'Chart.yaml version',
      'Chart.yaml appVersion',
      '10-agent-daemonset.yaml',
      '20-controller-deployment.yaml',
      'Kustomization',
    ]) {
      assert.ok(
        bad.some((b) => b.includes(what)),
        `${what} not named in:\n${bad.join('\n')}`,
      );
    }
    assert.deepEqual(releaseMismatches('0.1.0', root), ['tag 0.1.0 is not v<semver>']);
  });

  it('catches a manifests/ image tag left behind', () => {
    const copy = mkdtempSync(join(tmpdir(), 'weft-release-'));
    try {
      for (const p of ['package.json', 'charts', 'manifests'])
        cpSync(join(root, p), join(copy, p), { recursive: true });
      const ds = join(copy, 'manifests/10-agent-daemonset.yaml');
      writeFileSync(ds, readFileSync(ds, 'utf8').replace(`weft:${packageVersion}`, 'weft:0.0.1'));
      assert.deepEqual(releaseMismatches(`v${packageVersion}`, copy), [
        `manifests/10-agent-daemonset.yaml image ghcr.io/weft-net/weft:0.0.1: 0.0.1, the tag says ${packageVersion}`,
      ]);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});

describe('Dockerfile', () => {
  it('builds on any architecture: no architecture named in it (buildx sets TARGETARCH per platform)', () => {
    const text = readFileSync(join(root, 'Dockerfile'), 'utf8');
    for (const arch of ['amd64', 'x86_64', 'x86-64', 'x64', 'aarch64', 'arm64', 'i386']) {
      assert.ok(!text.toLowerCase().includes(arch), `Dockerfile names ${arch}`);
    }
  });
});
