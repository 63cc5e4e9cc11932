import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INITIAL_PROBE_STATE, nextProbeState, ProbeLoop, type ProbeState } from './prober.js';

function run(statuses: number[], threshold: number): ProbeState {
  return statuses.reduce((s, status) => nextProbeState(s, status, threshold), INITIAL_PROBE_STATE);
}

describe('kubelet-style probes', () => {
  it('is unready until the first success; 2xx/3xx succeed, 4xx/5xx and no answer fail', () => {
    assert.equal(run([], 3).ready, false);
    assert.equal(run([503, 0], 3).ready, false);
    assert.equal(run([503, 200], 3).ready, true);
    assert.equal(run([302], 3).ready, true);
    assert.equal(run([404], 3).ready, false);
  });

  it('turns unready only after failureThreshold consecutive failures', () => {
    assert.equal(run([200, 500, 500], 3).ready, true);
    assert.equal(run([200, 500, 500, 0], 3).ready, false);
    assert.equal(run([200, 500, 500, 200, 500, 500], 3).ready, true, 'a success resets the count');
    assert.deepEqual(run([200, 500, 0, 200], 3), {
      ready: true,
      consecutiveFailures: 0,
      successes: 2,
      failures: 2,
      lastStatus: 200,
    });
  });

  it('polls every period and calls for a restart once the threshold is reached', async () => {
    const answers = [200, 500, 500, 500, 500];
    const urls: string[] = [];
    let restarts = 0;
    const ac = new AbortController();
    const loop = new ProbeLoop(
      {
        path: '/healthz',
        port: 9742,
        host: '127.0.0.1',
        periodSeconds: 0.01,
        failureThreshold: 2,
        timeoutSeconds: 1,
      },
      async (url) => {
        urls.push(url);
        if (urls.length >= answers.length) ac.abort();
        return answers[urls.length - 1] ?? 0;
      },
      () => restarts++,
    );
    await loop.run(ac.signal);
    assert.equal(urls[0], 'http://127.0.0.1:9742/healthz');
    assert.equal(restarts, 1, 'once at the threshold, not on every further failure');
    assert.equal(loop.state.consecutiveFailures, 3);
  });
});
