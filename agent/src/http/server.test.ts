import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../../common/log.js';
import { createAgentRegistry } from '../metrics.js';
import { AgentHttpServer } from './server.js';

describe('AgentHttpServer', () => {
  let healthy = true;
  let ready = false;
  let base = '';
  const server = new AgentHttpServer({
    registry: createAgentRegistry('1.2.3'),
    log: silentLogger(),
    liveness: [{ name: 'reconcile', check: () => ({ ok: healthy, detail: 'stuck for 99s' }) }],
    readiness: [{ name: 'reconcile', check: () => ({ ok: ready, detail: 'no successful reconcile yet' }) }],
  });
  before(async () => {
    server.addRoute('/api/v1/status', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
    server.addRoute('/boom', () => {
      throw new Error('boom');
    });
    const addr = await server.listen('127.0.0.1', 0);
    base = `http://127.0.0.1:${addr.port}`;
  });
  after(() => server.close());

  it('answers health and readiness from the checks', async () => {
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const notReady = await fetch(`${base}/readyz`);
    assert.equal(notReady.status, 503);
    assert.match(await notReady.text(), /reconcile: no successful reconcile yet/);
    ready = true;
    assert.equal((await fetch(`${base}/readyz?verbose`)).status, 200);
    healthy = false;
    const sick = await fetch(`${base}/healthz`);
    assert.equal(sick.status, 503);
    assert.match(await sick.text(), /stuck/);
  });

  it('serves metrics from its own registry with build info and process metrics', async () => {
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /weft_build_info\{version="1\.2\.3"\} 1/);
    assert.match(text, /process_resident_memory_bytes/);
  });

  it('serves added routes, 404s unknown ones, 500s a failing handler, refuses duplicates', async () => {
    assert.deepEqual(await (await fetch(`${base}/api/v1/status`)).json(), { ok: true });
    assert.equal((await fetch(`${base}/nope`)).status, 404);
    assert.equal((await fetch(`${base}/boom`)).status, 500);
    assert.throws(() => server.addRoute('/metrics', () => undefined), /already registered/);
  });
});
