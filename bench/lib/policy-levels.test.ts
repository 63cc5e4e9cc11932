import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePolicies } from '../../agent/src/policy/compile.js';
import { levelPolicies, levelShape, MEASURED, policyCluster } from './policy-levels.js';

describe('policy benchmark levels', () => {
  const cluster = policyCluster();

  it('every policy of a level is enforced on n1 and on n2, with cli and srv isolated both ways', () => {
    for (const level of [100, 1000]) {
      const policies = levelPolicies(level);
      assert.equal(policies.length, level);
      for (const node of ['n1', 'n2'] as const) {
        const c = compilePolicies({ nodeName: node, ...cluster, policies, sctp: false });
        assert.equal(c.enforcedPolicies, level, `${level} on ${node}`);
        assert.deepEqual(c.problems, []);
        const pod = node === 'n1' ? MEASURED.cli : MEASURED.srv;
        const sel = c.selections.find((s) => s.ip === pod.ip);
        // The targeted policies (10 %) plus one allow per direction.
        assert.equal((sel?.ingress.length ?? 0) + (sel?.egress.length ?? 0) > level / 10, true);
        assert.ok(sel?.ingressChain && sel.egressChain);
        assert.equal(
          c.selections.some((s) => s.ip === MEASURED.dny.ip || s.ip === MEASURED.opn.ip),
          false,
        );
      }
    }
  });

  it("the measured ports' allow is the last rule before the drop of the measured pod's chain", () => {
    const c = compilePolicies({ nodeName: 'n2', ...cluster, policies: levelPolicies(1000), sctp: false });
    const chain = c.selections.find((s) => s.ip === MEASURED.srv.ip)?.ingressChain;
    const rules = c.content.chains.find((ch) => ch.name === chain)?.rules ?? [];
    assert.ok(rules.length > 10, `${rules.length} rules`);
    assert.match(rules.at(-2) ?? '', /bench-pdp\/np-zz-allow-ingress ingress\[0\]/);
    assert.match(c.content.rules.get(rules.at(-2) ?? '') ?? '', /th dport \{ 5201, 7000, 11111 \}/);
  });

  it('level 0 has no policies; levels below 10 are refused', () => {
    assert.deepEqual(levelPolicies(0), []);
    assert.deepEqual(levelShape(100), { targeted: 10, allows: 2, workload: 88 });
    assert.throws(() => levelShape(5), /policy level must be 0 or ≥ 10/);
  });
});
