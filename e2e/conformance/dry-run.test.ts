import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDryRunReport } from './dry-run.js';
import { ConformanceError } from './selections.js';

// The fields of ginkgo's JSON report the listing reads, trimmed from a real dry run.
const report = [
  {
    SuiteDescription: 'Kubernetes e2e suite',
    SpecReports: [
      { LeafNodeType: 'SynchronizedBeforeSuite', LeafNodeText: '', State: 'passed' },
      {
        LeafNodeType: 'It',
        ContainerHierarchyTexts: ['[sig-network] Networking', 'Granular Checks: Pods'],
        LeafNodeText: 'should function for intra-pod communication: http [NodeConformance] [Conformance]',
        State: 'passed',
      },
      {
        LeafNodeType: 'It',
        ContainerHierarchyTexts: ['[sig-apps] Daemon set [Serial]'],
        LeafNodeText: 'should run and stop complex daemon [Conformance]',
        State: 'skipped',
      },
      { LeafNodeType: 'It', ContainerHierarchyTexts: null, LeafNodeText: 'top-level spec', State: 'passed' },
      // Upstream has leaf texts that end in a space; ginkgo's JUnit report has the name without it.
      {
        LeafNodeType: 'It',
        ContainerHierarchyTexts: ['[sig-network] Proxy', 'version v1'],
        LeafNodeText: 'should proxy logs on node using proxy subresource ',
        State: 'passed',
      },
    ],
  },
];

describe('parseDryRunReport', () => {
  it('joins container and It texts like ginkgo and tells what the filters would run', () => {
    assert.deepEqual(parseDryRunReport(report), [
      {
        name: '[sig-network] Networking Granular Checks: Pods should function for intra-pod communication: http [NodeConformance] [Conformance]',
        wouldRun: true,
      },
      {
        name: '[sig-apps] Daemon set [Serial] should run and stop complex daemon [Conformance]',
        wouldRun: false,
      },
      { name: 'top-level spec', wouldRun: true },
      {
        name: '[sig-network] Proxy version v1 should proxy logs on node using proxy subresource',
        wouldRun: true,
      },
    ]);
  });

  const bad: Array<[string, unknown]> = [
    ['not a list', { SpecReports: [] }],
    ['a suite without SpecReports', [{}]],
    ['an It without text', [{ SpecReports: [{ LeafNodeType: 'It' }] }]],
    [
      'container texts that are not strings',
      [{ SpecReports: [{ LeafNodeType: 'It', LeafNodeText: 'x', ContainerHierarchyTexts: [1] }] }],
    ],
  ];
  for (const [what, json] of bad) {
    it(`rejects ${what}`, () => {
      assert.throws(
        () => parseDryRunReport(json),
        (e: unknown) => e instanceof ConformanceError && e.code === 'EDRYRUN',
      );
    });
  }
});
