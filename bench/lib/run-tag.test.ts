import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { benchNames, benchNetnsPrefixes, benchTag, staleBenchTags } from './run-tag.js';

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
    assert.deepEqual(benchNetnsPrefixes('a1'), ['wtbna1-', 'wtcni-ba1-', 'wcaga1-', 'wcfpa1-', 'wcnpa1-']);
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
      staleBenchTags(netns, (pid) => pid === 1296),
      [dead],
    );
  });
});
