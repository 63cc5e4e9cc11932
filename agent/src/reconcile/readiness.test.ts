import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeReadiness, type ReadinessInputs } from './readiness.js';

const self = { name: 'n1', underlayIP: '10.0.0.1', podCIDRs: ['10.244.1.0/24'] };

describe('computeReadiness', () => {
  const cases: Array<[string, ReadinessInputs, boolean, RegExp | null]> = [
    ['synced once', { self, firstSuccessAt: 1, failures: 0 }, true, null],
    ['synced once, failing since', { self, firstSuccessAt: 1, failures: 3 }, true, null],
    [
      'node unknown',
      { self: undefined, firstSuccessAt: undefined, failures: 0 },
      false,
      /not in the cluster view/,
    ],
    [
      'no podCIDR',
      { self: { ...self, podCIDRs: [] }, firstSuccessAt: undefined, failures: 0 },
      false,
      /no podCIDR/,
    ],
    ['sync failing', { self, firstSuccessAt: undefined, failures: 2 }, false, /failed 2 time\(s\)/],
    ['first sync running', { self, firstSuccessAt: undefined, failures: 0 }, false, /no datapath sync/],
  ];
  for (const [what, input, ready, reason] of cases) {
    it(what, () => {
      const r = computeReadiness(input);
      assert.equal(r.ready, ready);
      if (reason) assert.match(r.reason ?? '', reason);
      else assert.equal(r.reason, null);
    });
  }
});
