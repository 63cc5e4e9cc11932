/**
 * The upstream sig-network e2e specs of the `ci` selection (e2e/conformance/selections.json:
 * Granular Checks, sig-network [Conformance], NoSNAT) and of the `dualstack` selection (the
 * [Feature:IPv6DualStack] specs, on a dual-stack cluster), each against a real-node cluster
 * of its own (`npm run conformance -- run <selection>` does the same and rewrites the docs
 * page; this test leaves the docs alone). Every failed spec fails the test, named in the
 * message with the head of its failure.
 *
 * Needs the node images (e2e/images/build.sh, with the e2e images) and the e2e binary
 * (e2e/conformance/build.sh); scripts/test.sh includes this file only with the image tests.
 * Env: WEFT_CONFORMANCE_SELECTION (comma-separated, default ci,dualstack), WEFT_CONFORMANCE_BACKEND (default auto),
 * WEFT_CONFORMANCE_NODES (ginkgo processes, default 3).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../common/log.js';
import { runConformance } from '../conformance/run.js';
import type { WeftBackend } from '../realnode/addons.js';

const selections = (process.env.WEFT_CONFORMANCE_SELECTION ?? 'ci,dualstack').split(',');
const backend = (process.env.WEFT_CONFORMANCE_BACKEND ?? 'auto') as WeftBackend;
const nodes = Number(process.env.WEFT_CONFORMANCE_NODES ?? '3');

for (const selection of selections) {
  describe(`upstream sig-network e2e: selection ${selection} on real nodes`, { timeout: 3_000_000 }, () => {
    it('no selected spec fails', async () => {
      const reportDir = `/tmp/weft-conformance/test-${selection}-${backend}`;
      const r = await runConformance({
        selection,
        nodes,
        backend,
        reportDir,
        log: createLogger('e2e-conformance', process.env.WEFT_E2E_LOG ?? 'warn'),
      });
      const specs = r.rows.filter((x) => x.isSpec);
      console.log(
        `${selection}: ${r.passed} passed, ${r.failed.length} failed, ${r.skipped} skipped themselves ` +
          `(${specs.length} in the report) in ${Math.round(r.durationSeconds)} s; ${reportDir}`,
      );
      const lines = r.failed.map(
        (f) => `- ${f.name}: ${(f.message ?? '').split('\n').slice(0, 3).join(' ')}`,
      );
      assert.deepEqual(
        lines,
        [],
        `${r.failed.length} failed (${reportDir}/ginkgo.log):\n${lines.join('\n')}`,
      );
      assert.equal(r.ginkgoExitCode, 0, `ginkgo exited ${r.ginkgoExitCode}; see ${reportDir}/ginkgo.log`);
      assert.ok(r.passed > 0, 'no spec passed');
    });
  });
}
