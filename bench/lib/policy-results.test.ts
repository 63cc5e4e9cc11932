import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  emptyPolicySamples,
  parsePolicyArgs,
  recordLevel,
  summarizePolicySamples,
} from './policy-results.js';

/** Figures of one repetition: throughput and latencies scaled by the level's factor. */
const cell = (gbps: number, us: number) => ({
  tcp1Gbps: gbps,
  rttP50Us: us,
  rttP99Us: 2 * us,
  connectP50Us: 4 * us,
  connectP99Us: 8 * us,
});

describe('policy datapath summary', () => {
  it('pairs each level with level 0 of the same repetition: ratios, added µs, the target', () => {
    const s = emptyPolicySamples();
    // rep 1 on a fast machine, rep 2 on a slow one: paired ratios stay 0.96 / 0.9 at 1000.
    const reps = [
      { 0: [10, 20], 100: [9.9, 21], 1000: [9.6, 22] },
      { 0: [5, 40], 100: [4.95, 41], 1000: [4.8, 44] },
    ] as const;
    for (const rep of reps) {
      for (const level of [0, 100, 1000] as const) {
        recordLevel(s, 'hostgw', level, cell(rep[level][0], rep[level][1]));
        recordLevel(
          s,
          'vxlan',
          level,
          cell(rep[level][0] * (level === 1000 ? 0.9 / 0.96 : 1), rep[level][1]),
        );
      }
    }
    const r = summarizePolicySamples(s);
    const hg = r.backends.hostgw;
    assert.deepEqual(hg['1000'].ratioToNoPolicy.tcp1Gbps, { median: 0.96, min: 0.96, max: 0.96, n: 2 });
    assert.deepEqual(hg['100'].ratioToNoPolicy.tcp1Gbps, { median: 0.99, min: 0.99, max: 0.99, n: 2 });
    assert.deepEqual(hg['0'].ratioToNoPolicy.rttP50Us, { median: 1, min: 1, max: 1, n: 2 });
    // Added latency: 1000 − 0 per repetition = 2 and 4 µs (rtt p50); ×4 for connect p50.
    assert.deepEqual(hg['1000'].addedUs.rttP50Us, { median: 3, min: 2, max: 4, n: 2 });
    assert.deepEqual(hg['1000'].addedUs.connectP50Us, { median: 12, min: 8, max: 16, n: 2 });
    assert.deepEqual(hg['0'].addedUs.connectP99Us, { median: 0, min: 0, max: 0, n: 2 });
    assert.deepEqual(hg['0'].tcp1Gbps, { median: 7.5, min: 5, max: 10, n: 2 });
    assert.equal(r.backends.vxlan['1000'].ratioToNoPolicy.tcp1Gbps.median, 0.9);
    assert.deepEqual(r.target, {
      level: 1000,
      minTcp1Ratio: 0.95,
      tcp1Ratio: { hostgw: 0.96, vxlan: 0.9 },
      met: false,
    });
  });

  it('a level measured in fewer repetitions than level 0 is an error, not a silent pairing', () => {
    const s = emptyPolicySamples();
    recordLevel(s, 'hostgw', 0, cell(1, 1));
    assert.throws(() => summarizePolicySamples(s), /paired samples differ in length/);
  });

  it('quick mode keeps all three levels, with tiny sizes', () => {
    const q = parsePolicyArgs(['--quick', '--rtt-cpu', 'none']);
    assert.deepEqual(
      { reps: q.reps, seconds: q.seconds, rounds: q.rttRounds, conns: q.connections, cpu: q.rttCpu },
      { reps: 1, seconds: 1, rounds: 1, conns: 30, cpu: undefined },
    );
    assert.throws(() => parsePolicyArgs(['--connections', '0']), /--connections must be a positive number/);
  });
});
