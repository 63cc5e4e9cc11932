import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  benchNames,
  benchNetnsPrefixes,
  benchTag,
  recordRunDone,
  recordRunStarted,
  staleBenchTags,
  startedRuns,
} from './run-tag.js';

describe('benchmark run tag', () => {
  it('comes from WEFT_BENCH_TAG, else the pid in base 36, and is validated', () => {
    assert.equal(benchTag({ WEFT_BENCH_TAG: 'k3x' }, 1), 'k3x');
    assert.equal(benchTag({}, 4194304), '2hwcg'); // pid_max on 64-bit
    assert.throws(() => benchTag({ WEFT_BENCH_TAG: 'Bad-Tag' }, 1), /WEFT_BENCH_TAG must be 1-5 lowercase/);
    assert.throws(() => benchTag({ WEFT_BENCH_TAG: '' }, 1), /WEFT_BENCH_TAG/);
  });

  it('names fit the namespace-prefix and cluster-name limits at the longest tag', () => {
    const n = benchNames('zzzzz');
    assert.ok(`${n.datapathPrefix}-wg`.length <= 13);
    assert.ok(n.scaleCluster.length <= 10 && n.footprintCluster.length <= 10 && n.policyCluster.length <= 10);
    assert.ok(n.wireguardCluster.length <= 10);
    assert.deepEqual(benchNetnsPrefixes('a1'), [
      'wtbna1-',
      'wtcni-ba1-',
      'wcaga1-',
      'wcfpa1-',
      'wcnpa1-',
      'wcwga1-',
    ]);
  });

  it('finds the tags of runs whose process is gone, and only those', () => {
    const live = (36 * 36).toString(36); // pid 1296 → '100'
    const dead = (42).toString(36);
    const netns = [
      `wtbn${dead}-wg-n1`,
      `wtcni-b${dead}-node`,
      `wcag${dead}-cp`,
      `wcnp${dead}-n2`,
      `wtbn${live}-wg-n1`,
      `wcfp${live}-n1`,
      'wtcni-other-node',
      'wcdemo-cp',
      'unrelated',
    ];
    assert.deepEqual(
      staleBenchTags(netns, (pid) => pid === 1296, new Set([dead, live])),
      [dead],
    );
  });

  it('never takes a foreign name for a dead run: only recorded runs count', () => {
    // The e2e cluster agwg reads as scale cluster ag + tag wg, whose pid is gone.
    const netns = ['wcagwg-cp', 'wcagwg-node1', `wcwg${(42).toString(36)}-node1`];
    assert.deepEqual(
      staleBenchTags(netns, () => false, new Set()),
      [],
    );
    assert.deepEqual(
      staleBenchTags(netns, () => false, new Set(['16'])),
      ['16'],
    );
  });

  it('records runs started and forgets them when done', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-bench-runs-'));
    try {
      assert.deepEqual([...startedRuns(join(dir, 'none'))], []);
      recordRunStarted('k3x', dir);
      recordRunStarted('a1', dir);
      recordRunDone('a1', dir);
      recordRunDone('zz', dir);
      assert.deepEqual([...startedRuns(dir)], ['k3x']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
