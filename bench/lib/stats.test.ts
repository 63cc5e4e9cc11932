import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { median, pairedDiffs, pairedRatios, quantile, relativeSpread, round, summarize } from './stats.js';

describe('bench stats', () => {
  it('median of odd and even counts ignores non-finite samples', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([5, Number.NaN, 1, 3]), 3);
    assert.ok(Number.isNaN(median([])));
  });

  it('quantile by nearest rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(quantile(xs, 0.5), 50);
    assert.equal(quantile(xs, 0.99), 99);
    assert.equal(quantile(xs, 1), 100);
    assert.equal(quantile(xs, 0), 1);
    assert.throws(() => quantile(xs, 1.5), /q must be within/);
  });

  it('summary and relative spread', () => {
    const s = summarize([10, 12, 8]);
    assert.deepEqual(s, { median: 10, min: 8, max: 12, n: 3 });
    assert.equal(relativeSpread(s), 0.4);
  });

  it('paired ratios and differences per repetition', () => {
    assert.deepEqual(pairedRatios([9, 8], [10, 10]), [0.9, 0.8]);
    assert.deepEqual(pairedDiffs([30, 40], [25, 20]), [5, 20]);
    assert.throws(() => pairedRatios([1], [1, 2]), /differ in length/);
    assert.equal(round(0.12345, 3), 0.123);
  });
});
