import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { summarizeLatencies } from './latency.js';
import { parseCommits } from './nft-monitor.js';

describe('policy change latency', () => {
  it('summarises every node of every change; a node that never took one is a timeout, not a sample', () => {
    const s = summarizeLatencies([
      [10, 20, 30],
      [40, undefined, 60],
    ]);
    assert.deepEqual(s, { samples: 5, p50Ms: 30, p99Ms: 60, maxMs: 60, timeouts: 1 });
    assert.deepEqual(summarizeLatencies([[undefined]]), {
      samples: 0,
      p50Ms: null,
      p99Ms: null,
      maxMs: null,
      timeouts: 1,
    });
  });

  it('reads commit times from the monitor log: generation lines only', () => {
    const log = [
      '1796178623000 # monitor started',
      '1796178623698 add element inet weft pe_1 { 10.0.0.1 }',
      '1796178623699 # new generation 9 by process 16668 (nft)',
      'W: Received event for an unknown set.',
      '1796178624155 # new generation 11 by process 16683 (nft)',
    ].join('\n');
    assert.deepEqual(parseCommits(log), [1796178623699, 1796178624155]);
  });
});
