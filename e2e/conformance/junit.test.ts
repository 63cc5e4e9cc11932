import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseJunitReport } from './junit.js';
import { ConformanceError } from './selections.js';

const FIXTURE = resolve(
  fileURLToPath(new URL('.', import.meta.url)),
  '../../../e2e/conformance/fixtures/junit_01.xml',
);

describe('parseJunitReport', () => {
  const rows = parseJunitReport(readFileSync(FIXTURE, 'utf8'));
  const row = (prefix: string) => {
    const r = rows.find((x) => x.name.startsWith(prefix));
    assert.ok(r, prefix);
    return r;
  };

  it('returns every testcase in order, specs without the "[It] " prefix', () => {
    assert.equal(rows.length, 9);
    assert.deepEqual(
      rows.filter((r) => !r.isSpec).map((r) => r.name),
      [
        '[SynchronizedBeforeSuite]',
        '[SynchronizedAfterSuite]',
        '[ReportAfterSuite] Kubernetes e2e JUnit report',
      ],
    );
    assert.equal(
      rows[1]?.name,
      '[sig-network] Networking Granular Checks: Pods should function for intra-pod communication: http [NodeConformance] [Conformance]',
    );
  });

  it('reads a passed spec with its duration and no message', () => {
    assert.deepEqual(row('[sig-network] Networking Granular'), {
      name: rows[1]?.name,
      isSpec: true,
      state: 'passed',
      status: 'passed',
      durationSeconds: 42.125,
    });
  });

  it('takes the failure text from the element body when the message attribute is empty', () => {
    const r = row('[sig-network] Services should serve');
    assert.equal(r.state, 'failed');
    assert.equal(r.durationSeconds, 301.5);
    assert.match(
      r.message ?? '',
      /^\[FAILED\] failed to get "http:\/\/10\.96\.0\.12:80\/hostname" from pod execpod & 2/,
    );
    assert.match(r.message ?? '', /\nIn \[It\] at: .*service\.go:812/);
  });

  it('folds a panic (an <error>) into failed and keeps ginkgo status', () => {
    const r = row('[sig-network] DNS');
    assert.equal(r.state, 'failed');
    assert.equal(r.status, 'panicked');
    assert.match(r.message ?? '', /^\[PANICKED\] runtime error/);
  });

  it('keeps the reason of a spec that skipped itself, none for one the filters left out', () => {
    assert.equal(row('[sig-network] Topology Hints').message, 'Requires more than one zone');
    const filtered = row('[sig-storage] EmptyDir');
    assert.equal(filtered.state, 'skipped');
    assert.equal(filtered.message, undefined);
  });

  it('reads ginkgo --junit-report style too: message attribute, no status attribute', () => {
    const [r] = parseJunitReport(
      '<testsuite><testcase name="[It] x" time="2"><failure message="boom" type="failed"></failure></testcase></testsuite>',
    );
    assert.deepEqual(r, {
      name: 'x',
      isSpec: true,
      state: 'failed',
      status: 'failed',
      durationSeconds: 2,
      message: 'boom',
    });
    const [p, s] = parseJunitReport(
      '<testsuites><testsuite><testcase name="[It] p"/><testcase name="[It] s"><skipped message="pending"/></testcase></testsuite></testsuites>',
    );
    assert.equal(p?.state, 'passed');
    assert.deepEqual([s?.state, s?.message], ['skipped', 'pending']);
  });

  it('drops the colour codes ginkgo leaves in some failure texts, also as Go writes them (U+FFFD)', () => {
    const [r] = parseJunitReport(
      '<testsuites><testcase name="[SynchronizedBeforeSuite]" status="failed"><failure>&#x1b;[1m\uFFFD[38;5;9mfailed on process #1&#x1b;[0m</failure></testcase></testsuites>',
    );
    assert.equal(r?.message, 'failed on process #1');
    assert.equal(r?.isSpec, false);
  });

  const bad: Array<[string, string]> = [
    ['another root', '<html/>'],
    ['an unknown status', '<testsuites><testcase name="[It] x" status="weird"/></testsuites>'],
    ['a testcase without a name', '<testsuites><testcase status="passed"/></testsuites>'],
    ['a time that is not a number', '<testsuites><testcase name="x" time="soon"/></testsuites>'],
  ];
  for (const [what, xml] of bad) {
    it(`rejects ${what}`, () => {
      assert.throws(
        () => parseJunitReport(xml),
        (e: unknown) => e instanceof ConformanceError && e.code === 'EJUNIT',
      );
    });
  }
});
