import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../../common/log.js';
import { startHttpServer } from './http.js';
import { createControllerMetrics } from './metrics.js';

describe('controller http server', () => {
  it('serves probes and the registry on loopback', async () => {
    const registry = new Registry();
    const metrics = createControllerMetrics(registry, { version: '9.9.9' });
    metrics.isLeader.set(1);
    let ready = false;
    const server = await startHttpServer(
      { host: '127.0.0.1', port: 0 },
      registry,
      { healthz: () => ({ ok: true, detail: 'alive' }), readyz: () => ({ ok: ready, detail: 'waiting' }) },
      silentLogger(),
    );
    const base = `http://127.0.0.1:${server.port}`;
    try {
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      const notReady = await fetch(`${base}/readyz`);
      assert.equal(notReady.status, 503);
      assert.match(await notReady.text(), /waiting/);
      ready = true;
      assert.equal((await fetch(`${base}/readyz`)).status, 200);
      const text = await (await fetch(`${base}/metrics`)).text();
      for (const name of [
        'weft_controller_is_leader 1',
        'weft_controller_cidr_allocations_total{result="exhausted"} 0',
        'weft_controller_build_info{version="9.9.9"',
        'process_cpu_user_seconds_total',
      ]) {
        assert.ok(text.includes(name), name);
      }
      assert.equal((await fetch(`${base}/nope`)).status, 404);
      assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
    } finally {
      await server.close();
    }
  });
});
