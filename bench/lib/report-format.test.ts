import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cell, num, objectsTable, spread, table } from './report-format.js';

describe('report formatting', () => {
  it('numbers, spreads and cells', () => {
    assert.equal(num(0.91234), '0.912');
    assert.equal(num(12345.6), '12,346');
    assert.equal(num(Number.NaN), '–');
    assert.equal(spread({ median: 0.9, min: 0.85, max: 0.95 }), '0.9 [0.85–0.95]');
    assert.equal(spread({ median: 2, min: 2, max: 2 }), '2');
    assert.equal(spread({ median: 1.5, min: 1, max: 2 }, 1000), '1,500 [1,000–2,000]');
    assert.equal(cell({ digest: 1, records: 1.88 }), 'digest=1 records=1.88');
  });

  it('tables escape pipes and take the union of keys', () => {
    assert.equal(table(['a', 'b'], [['1', 'x|y']]), '| a | b |\n| --- | --- |\n| 1 | x\\|y |');
    const t = objectsTable(
      [
        { n: 10, joinMs: { median: 5, min: 4, max: 6 } },
        { n: 100, extra: 'yes' },
      ],
      ['extra'],
    );
    assert.equal(t.split('\n')[0], '| n | joinMs |');
    assert.equal(t.split('\n')[3], '| 100 | – |');
  });
});
