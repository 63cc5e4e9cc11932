import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EVERYTHING, matchesSelector } from './selector.js';
import type { LabelSelector, Labels } from './types.js';

const sel = (
  matchLabels: Labels,
  matchExpressions: LabelSelector['matchExpressions'] = [],
): LabelSelector => ({
  matchLabels,
  matchExpressions,
});

describe('matchesSelector (truth table)', () => {
  const cases: Array<[string, LabelSelector, Labels, boolean]> = [
    ['empty selector, no labels', EVERYTHING, {}, true],
    ['empty selector, labels', EVERYTHING, { app: 'a' }, true],
    ['matchLabels equal', sel({ app: 'a' }), { app: 'a', x: 'y' }, true],
    ['matchLabels other value', sel({ app: 'a' }), { app: 'b' }, false],
    ['matchLabels missing key', sel({ app: 'a' }), {}, false],
    ['matchLabels all of two', sel({ app: 'a', tier: 'db' }), { app: 'a' }, false],
    ['In, value listed', sel({}, [{ key: 'app', operator: 'In', values: ['a', 'b'] }]), { app: 'b' }, true],
    ['In, value not listed', sel({}, [{ key: 'app', operator: 'In', values: ['a'] }]), { app: 'c' }, false],
    ['In, key absent', sel({}, [{ key: 'app', operator: 'In', values: ['a'] }]), {}, false],
    ['NotIn, key absent', sel({}, [{ key: 'app', operator: 'NotIn', values: ['a'] }]), {}, true],
    ['NotIn, value listed', sel({}, [{ key: 'app', operator: 'NotIn', values: ['a'] }]), { app: 'a' }, false],
    ['NotIn, other value', sel({}, [{ key: 'app', operator: 'NotIn', values: ['a'] }]), { app: 'b' }, true],
    ['Exists, present with ""', sel({}, [{ key: 'app', operator: 'Exists', values: [] }]), { app: '' }, true],
    ['Exists, absent', sel({}, [{ key: 'app', operator: 'Exists', values: [] }]), {}, false],
    ['DoesNotExist, absent', sel({}, [{ key: 'app', operator: 'DoesNotExist', values: [] }]), {}, true],
    [
      'DoesNotExist, present',
      sel({}, [{ key: 'app', operator: 'DoesNotExist', values: [] }]),
      { app: 'a' },
      false,
    ],
    [
      'labels and expressions together',
      sel({ app: 'a' }, [{ key: 'tier', operator: 'In', values: ['web'] }]),
      { app: 'a', tier: 'db' },
      false,
    ],
    [
      'a key named like an Object method',
      sel({}, [{ key: 'constructor', operator: 'Exists', values: [] }]),
      {},
      false,
    ],
  ];
  for (const [name, selector, labels, want] of cases) {
    it(`${name} → ${want}`, () => assert.equal(matchesSelector(selector, labels), want));
  }
});
