import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { classifySpecs, unmatchedExclusions } from './classify.js';
import type { SpecsFile } from './list.js';
import { parseSelections, type ResolvedSelection, resolveSelection } from './selections.js';

const HERE = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../e2e/conformance');
const readJson = (f: string): unknown => JSON.parse(readFileSync(resolve(HERE, f), 'utf8'));

const sel: ResolvedSelection = {
  name: 't',
  description: 'd',
  ipFamily: 'ipv4' as const,
  focus: [{ pattern: '\\[sig-network\\]', reason: 'net' }],
  skip: [
    { pattern: 'SCTP', reason: 'no sctp' },
    { pattern: 'Feature:LoadBalancer', reason: 'no lb' },
  ],
  excludedSpecs: [{ name: '[sig-network] KubeProxy should update metric', reason: 'iptables only' }],
};

describe('classifySpecs', () => {
  const names = [
    '[sig-network] Services should serve a basic endpoint from pods  [Conformance]',
    '[sig-network] Networking Granular Checks: Pods should function for intra-pod communication: sctp [Feature:SCTPConnectivity]',
    '[sig-network] LoadBalancers [Feature:LoadBalancer] should handle SCTP [Slow]',
    '[sig-network] KubeProxy should update metric',
    '[sig-storage] EmptyDir volumes should support (root,0644,tmpfs)',
  ];

  it('keeps focused specs that no term or name skips, sorted', () => {
    const c = classifySpecs(names, sel);
    assert.deepEqual(c.selected, [
      '[sig-network] Services should serve a basic endpoint from pods  [Conformance]',
    ]);
  });

  it('gives each excluded spec the first term that matches, or its exclusion by name', () => {
    const c = classifySpecs(names, sel);
    assert.deepEqual(
      c.excluded.map((e) => [e.name.slice(14, 30), e.by, e.reason]),
      [
        ['KubeProxy should', '[sig-network] KubeProxy should update metric', 'iptables only'],
        ['LoadBalancers [F', 'SCTP', 'no sctp'],
        ['Networking Granu', 'SCTP', 'no sctp'],
      ],
    );
  });

  it('matches like ginkgo, against "Kubernetes e2e suite <spec>", so ^ anchors at the suite name', () => {
    const anchored = { ...sel, focus: [{ pattern: '^\\[sig-network\\]', reason: 'r' }] };
    assert.deepEqual(classifySpecs(names, anchored).selected, []);
    const suite = { ...sel, focus: [{ pattern: '^Kubernetes e2e suite \\[sig-storage\\]', reason: 'r' }] };
    assert.equal(classifySpecs(names, suite).selected.length, 1);
  });

  it('reports exclusions by name that match no spec of the suite', () => {
    assert.deepEqual(unmatchedExclusions(names, sel), []);
    assert.deepEqual(unmatchedExclusions(names.slice(0, 2), sel), [
      '[sig-network] KubeProxy should update metric',
    ]);
  });
});

describe('specs.json', () => {
  // A changed selections.json without a new `npm run conformance -- list` fails here.
  const all = parseSelections(readJson('selections.json'));
  const specs = readJson('specs.json') as SpecsFile;
  for (const [name, list] of Object.entries(specs.selections)) {
    it(`${name}: is what selections.json selects from the recorded spec names`, () => {
      const names = [...list.selected, ...list.excluded.map((e) => e.name)];
      const again = classifySpecs(names, resolveSelection(all, name));
      assert.deepEqual(again.selected, list.selected);
      assert.deepEqual(again.excluded, list.excluded);
      assert.equal(list.count, list.selected.length);
    });
  }
  it('covers every selection', () => {
    assert.deepEqual(Object.keys(specs.selections).sort(), Object.keys(all.selections).sort());
    assert.equal(specs.kubernetesVersion, all.kubernetesVersion);
  });
});
