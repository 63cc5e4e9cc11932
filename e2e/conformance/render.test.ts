import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JunitRow } from './junit.js';
import { type ConformanceRun, renderConformanceDoc } from './render.js';

const spec = (
  name: string,
  state: JunitRow['state'],
  durationSeconds: number,
  message?: string,
): JunitRow => ({
  name,
  isSpec: true,
  state,
  status: state,
  durationSeconds,
  ...(message === undefined ? {} : { message }),
});

const run: ConformanceRun = {
  date: '2026-12-01T20:00:00Z',
  selection: {
    name: 'ci',
    description: 'A bounded subset.',
    ipFamily: 'ipv4' as const,
    focus: [{ pattern: 'Granular', reason: 'the datapath' }],
    skip: [{ pattern: 'SCTP', reason: 'no SCTP in this kernel' }],
    excludedSpecs: [{ name: 'Granular z by name', reason: 'iptables only' }],
  },
  versions: [
    ['Kubernetes e2e suite', 'v1.33.13'],
    ['Weft', 'abc1234'],
  ],
  machine: 'Debian, kernel 6.18, 2 cores',
  cluster: '3 nodes',
  durationSeconds: 3725,
  command: ['ginkgo', '--focus=Granular', 'e2e-network.test'],
  specs: {
    selected: ['Granular a', 'Granular b', 'Granular c', 'Granular d'],
    excluded: [
      { name: 'Granular sctp', by: 'SCTP', reason: 'no SCTP in this kernel' },
      { name: 'Granular z by name', by: 'Granular z by name', reason: 'iptables only' },
    ],
  },
  rows: [
    {
      name: '[SynchronizedBeforeSuite]',
      isSpec: false,
      state: 'passed',
      status: 'passed',
      durationSeconds: 1,
    },
    spec('Granular a', 'passed', 42),
    spec('Granular b', 'failed', 301, 'timed out | waiting\nfor pod'),
    spec('Granular c', 'skipped', 0.5, 'Requires more than one zone'),
    spec('Other filtered', 'skipped', 0),
    spec('Granular new', 'passed', 3),
  ],
};

describe('renderConformanceDoc', () => {
  const doc = renderConformanceDoc(run);
  const table = (name: string) => doc.split('\n').find((l) => l.startsWith(`| ${name} |`));

  it('heads the page with the selection, versions, machine and duration', () => {
    assert.match(doc, /^# Upstream conformance: `ci`\n/);
    assert.match(doc, /\| Kubernetes e2e suite \| v1\.33\.13 \|/);
    assert.match(doc, /\| machine \| Debian, kernel 6\.18, 2 cores \|/);
    assert.match(doc, /\| duration \| 1h 2m \|/);
  });

  it('counts the results of the selected specs and the exclusions', () => {
    assert.match(
      doc,
      /4 specs selected: 1 passed, 1 failed, 1 skipped themselves, 1 not run\. 2 more are excluded/,
    );
  });

  it('lists focus, skip and by-name exclusions with their reasons, and the command', () => {
    assert.ok(doc.includes('| focus | `Granular` | the datapath |'));
    assert.ok(doc.includes('| skip | `SCTP` | no SCTP in this kernel |'));
    assert.ok(doc.includes('| skip by name | Granular z by name | iptables only |'));
    assert.ok(doc.includes('```\nginkgo --focus=Granular e2e-network.test\n```'));
  });

  it('gives every spec one row: result, time and note, on one line with pipes escaped', () => {
    assert.equal(table('Granular a'), '| Granular a | passed | 42s |  |');
    assert.equal(table('Granular b'), '| Granular b | failed | 5m 1s | timed out \\| waiting for pod |');
    assert.equal(table('Granular c'), '| Granular c | skipped | 1s | Requires more than one zone |');
    assert.equal(table('Granular d'), '| Granular d | not run |  | no result in the report |');
    assert.equal(table('Granular sctp'), '| Granular sctp | excluded |  | `SCTP`: no SCTP in this kernel |');
    assert.equal(
      table('Granular z by name'),
      '| Granular z by name | excluded |  | by name: iptables only |',
    );
  });

  it('flags a spec that ran but is not in the recorded list, and leaves out what the filters skipped', () => {
    assert.match(table('Granular new') ?? '', /passed .* not in the recorded spec list/);
    assert.equal(table('Other filtered'), undefined);
  });

  it('sorts the spec rows by name', () => {
    const names = doc
      .split('## Specs')[1]
      ?.split('\n')
      .filter((l) => l.startsWith('| Granular'))
      .map((l) => l.split(' | ')[0]);
    assert.deepEqual(names, [...(names ?? [])].sort());
  });

  it('says so when a suite node failed', () => {
    const failed = renderConformanceDoc({
      ...run,
      rows: [
        {
          name: '[SynchronizedBeforeSuite]',
          isSpec: false,
          state: 'failed',
          status: 'failed',
          durationSeconds: 60,
          message: 'connection refused',
        },
      ],
    });
    assert.match(failed, /\*\*\[SynchronizedBeforeSuite\] failed:\*\* connection refused/);
    assert.match(failed, /0 passed, 0 failed, 0 skipped themselves, 4 not run/);
  });
});
