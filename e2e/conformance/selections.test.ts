import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  ConformanceError,
  escapeRegExp,
  focusRegExp,
  parseSelections,
  resolveSelection,
  skipRegExp,
} from './selections.js';

const HERE = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../e2e/conformance');
const committed = (): unknown => JSON.parse(readFileSync(resolve(HERE, 'selections.json'), 'utf8'));

const minimal = (sel: Record<string, unknown>) => ({
  kubernetesVersion: 'v1.33.13',
  ginkgoVersion: 'v2.21.0',
  cluster: 'test',
  selections: { a: { description: 'a', focus: [{ pattern: 'x', reason: 'r' }] }, ...sel },
});

describe('selections', () => {
  it('parses the committed selections.json, every term and exclusion with a reason', () => {
    const all = parseSelections(committed());
    assert.deepEqual(Object.keys(all.selections).sort(), [
      'ci',
      'ci-ipv6',
      'dualstack',
      'netpol',
      'sig-network',
    ]);
    for (const s of Object.values(all.selections)) {
      for (const t of [...s.focus, ...s.skip, ...s.excludedSpecs, ...s.notSkipped]) {
        assert.ok(t.reason.length > 10, `reason for ${JSON.stringify(t)}`);
      }
    }
  });

  it('runs the dual-stack specs on a dual-stack cluster, and only there', () => {
    const all = parseSelections(committed());
    const ds = resolveSelection(all, 'dualstack');
    assert.equal(ds.ipFamily, 'dual');
    assert.match(
      '[sig-network] [Feature:IPv6DualStack] should create service with ipv6 cluster ip',
      new RegExp(focusRegExp(ds)),
    );
    for (const name of ['sig-network', 'ci']) {
      const s = resolveSelection(all, name);
      assert.equal(s.ipFamily, 'ipv4', name);
      assert.match(
        '[Feature:IPv6DualStack] x',
        new RegExp(skipRegExp(s)),
        `${name} skips the dual-stack specs`,
      );
    }
  });

  it('runs ci-ipv6 as ci on an IPv6-only cluster', () => {
    const all = parseSelections(committed());
    const [ci, v6] = [resolveSelection(all, 'ci'), resolveSelection(all, 'ci-ipv6')];
    assert.equal(v6.ipFamily, 'ipv6');
    assert.deepEqual([v6.focus, v6.skip, v6.excludedSpecs], [ci.focus, ci.skip, ci.excludedSpecs]);
  });

  it('gives ci the sig-network skips and exclusions first, then its own', () => {
    const all = parseSelections(committed());
    const ci = resolveSelection(all, 'ci');
    const base = resolveSelection(all, 'sig-network');
    assert.deepEqual(ci.skip.slice(0, base.skip.length), base.skip);
    assert.equal(ci.skip.at(-1)?.pattern, 'Slow');
    assert.deepEqual(ci.excludedSpecs, base.excludedSpecs);
  });

  it('ORs the focus patterns and appends excluded names literally to the skip', () => {
    const sel = {
      name: 't',
      description: 'd',
      ipFamily: 'ipv4' as const,
      focus: [
        { pattern: 'A', reason: 'r' },
        { pattern: 'B', reason: 'r' },
      ],
      skip: [{ pattern: 'Slow', reason: 'r' }],
      excludedSpecs: [{ name: '[sig-network] X (y) [Serial]', reason: 'r' }],
    };
    assert.equal(focusRegExp(sel), 'A|B');
    assert.equal(skipRegExp(sel), 'Slow|\\[sig-network\\] X \\(y\\) \\[Serial\\]');
    assert.equal(skipRegExp({ ...sel, skip: [], excludedSpecs: [] }), '');
  });

  it('escapes every regexp metacharacter so a name matches only itself', () => {
    const name = "[sig-network] a.b*c+d?e^f$g{h}i(j)k|l\\m 'n'";
    const re = new RegExp(`^${escapeRegExp(name)}$`);
    assert.ok(re.test(name));
    assert.ok(!re.test(name.replace('a.b', 'aXb')));
  });

  const bad: Array<[string, unknown, RegExp]> = [
    [
      'a missing reason',
      minimal({ b: { description: 'b', focus: [{ pattern: 'x' }] } }),
      /focus\[0\]\.reason/,
    ],
    [
      'an invalid pattern',
      minimal({ b: { description: 'b', focus: [{ pattern: '(', reason: 'r' }] } }),
      /regular/,
    ],
    ['an empty focus', minimal({ b: { description: 'b', focus: [] } }), /at least one/],
    [
      'an unknown ipFamily',
      minimal({ b: { description: 'b', ipFamily: 'ipv5', focus: [{ pattern: 'x', reason: 'r' }] } }),
      /selections\.b\.ipFamily must be one of ipv4, dual, ipv6, got "ipv5"/,
    ],
    [
      'an unknown base',
      minimal({ b: { description: 'b', extends: 'zz', focus: [{ pattern: 'x', reason: 'r' }] } }),
      /unknown selection zz/,
    ],
    [
      'a chain of bases',
      minimal({
        b: { description: 'b', extends: 'a', focus: [{ pattern: 'x', reason: 'r' }] },
        c: { description: 'c', extends: 'b', focus: [{ pattern: 'x', reason: 'r' }] },
      }),
      /extends again/,
    ],
    [
      'no selections',
      { kubernetesVersion: 'v', ginkgoVersion: 'v', cluster: 'c' },
      /selections must be an object/,
    ],
  ];
  for (const [what, json, msg] of bad) {
    it(`rejects ${what}`, () => {
      assert.throws(
        () => parseSelections(json),
        (err: unknown) =>
          err instanceof ConformanceError && err.code === 'ESELECTION' && msg.test(err.message),
      );
    });
  }

  it('names the known selections when asked for an unknown one', () => {
    const all = parseSelections(minimal({}));
    assert.throws(() => resolveSelection(all, 'nope'), /no selection nope \(known: a\)/);
  });
});
