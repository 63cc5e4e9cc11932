import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildDryRunCommand, buildRunCommand, formatCommand, junitReportPath } from './command.js';
import type { ResolvedSelection } from './selections.js';

const selection: ResolvedSelection = {
  name: 'ci',
  description: 'd',
  ipFamily: 'ipv4' as const,
  focus: [
    { pattern: 'Networking Granular Checks', reason: 'r' },
    { pattern: '\\[sig-network\\].*\\[Conformance\\]', reason: 'r' },
  ],
  skip: [{ pattern: 'SCTP', reason: 'r' }],
  excludedSpecs: [{ name: '[sig-network] KubeProxy should (x)', reason: 'r' }],
};

const base = {
  ginkgo: '/c/ginkgo',
  testBinary: '/c/e2e-network.test',
  selection,
  nodes: 4,
  kubeconfig: '/run/admin.kubeconfig',
  reportDir: '/run/report',
};

describe('buildRunCommand', () => {
  it('puts ginkgo flags before the binary and e2e framework flags after --', () => {
    assert.deepEqual(buildRunCommand(base), [
      '/c/ginkgo',
      '--nodes=4',
      '--focus=Networking Granular Checks|\\[sig-network\\].*\\[Conformance\\]',
      '--skip=SCTP|\\[sig-network\\] KubeProxy should \\(x\\)',
      '--timeout=4h',
      '--no-color',
      '--silence-skips',
      '/c/e2e-network.test',
      '--',
      '--kubeconfig=/run/admin.kubeconfig',
      '--provider=local',
      '--report-dir=/run/report',
    ]);
  });

  it('takes provider, timeout and extra e2e flags, and leaves --skip out when nothing is skipped', () => {
    const argv = buildRunCommand({
      ...base,
      selection: { ...selection, skip: [], excludedSpecs: [] },
      provider: 'skeleton',
      timeout: '90m',
      extraE2eArgs: ['--dns-domain=cluster.local'],
    });
    assert.ok(!argv.some((a) => a.startsWith('--skip')));
    assert.ok(argv.includes('--timeout=90m'));
    assert.deepEqual(argv.slice(-3), [
      '--provider=skeleton',
      '--report-dir=/run/report',
      '--dns-domain=cluster.local',
    ]);
  });

  for (const nodes of [0, -1, 1.5, Number.NaN]) {
    it(`refuses --nodes=${nodes}`, () => {
      assert.throws(() => buildRunCommand({ ...base, nodes }), RangeError);
    });
  }

  it('reads the JUnit report the framework writes into the report dir', () => {
    assert.equal(junitReportPath('/run/report'), '/run/report/junit_01.xml');
  });
});

describe('buildDryRunCommand', () => {
  it('runs the test binary itself with ginkgo. flags and a JSON report', () => {
    assert.deepEqual(
      buildDryRunCommand({ testBinary: '/c/t', focus: 'F', skip: 'S', jsonReport: '/tmp/r.json' }),
      [
        '/c/t',
        '--ginkgo.dry-run',
        '--ginkgo.no-color',
        '--ginkgo.focus=F',
        '--ginkgo.skip=S',
        '--ginkgo.json-report=/tmp/r.json',
      ],
    );
    assert.ok(
      !buildDryRunCommand({ testBinary: 't', focus: 'F', jsonReport: 'r' }).some((a) => a.includes('skip')),
    );
  });
});

describe('formatCommand', () => {
  it('quotes only what a shell would split or expand', () => {
    assert.equal(
      formatCommand(['/c/ginkgo', '--nodes=4', '--focus=a|b c', "it's", '--x=$HOME']),
      "/c/ginkgo --nodes=4 '--focus=a|b c' 'it'\\''s' '--x=$HOME'",
    );
  });
});
