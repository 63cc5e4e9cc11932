import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isGone, KubeApiError, KubeClient } from './api-client.js';
import { parseKubeConfig } from './kubeconfig.js';
import { KubeNodeApi } from './node-api.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return String((server.address() as AddressInfo).port);
}

function serve(handler: { current: Handler }) {
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => handler.current(req, res, body));
  };
}

const node = (name: string, rv: string) => ({
  metadata: { name, resourceVersion: rv },
  spec: { podCIDR: '10.244.1.0/24' },
  status: { addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] },
});

describe('KubeClient over plain HTTP', () => {
  const handler: { current: Handler } = { current: () => undefined };
  const server = http.createServer(serve(handler));
  let api: KubeNodeApi;
  let client: KubeClient;
  before(async () => {
    const port = await listen(server);
    client = new KubeClient({
      server: `http://127.0.0.1:${port}`,
      insecureSkipTLSVerify: false,
      token: () => 't0k',
    });
    api = new KubeNodeApi(client);
  });
  after(() => {
    client.close();
    server.close();
  });

  it('lists one page with limit and continue, sending the bearer token', async () => {
    let seen: { url?: string; auth?: string } = {};
    handler.current = (req, res) => {
      seen = { url: req.url ?? '', auth: req.headers.authorization ?? '' };
      res.end(
        JSON.stringify({ items: [node('a', '5')], metadata: { resourceVersion: '7', continue: 'abc' } }),
      );
    };
    const page = await api.listNodes({
      limit: 2,
      continueToken: 'xyz',
      signal: new AbortController().signal,
    });
    assert.equal(seen.url, '/api/v1/nodes?limit=2&continue=xyz');
    assert.equal(seen.auth, 'Bearer t0k');
    assert.deepEqual(page, { items: [node('a', '5')], resourceVersion: '7', continueToken: 'abc' });
  });

  it('turns a Status answer into KubeApiError; 410 is Gone', async () => {
    handler.current = (_req, res) => {
      res.statusCode = 410;
      res.end(
        JSON.stringify({ kind: 'Status', code: 410, reason: 'Expired', message: 'continue token too old' }),
      );
    };
    await assert.rejects(
      api.listNodes({ limit: 1, signal: new AbortController().signal }),
      (err: unknown) =>
        err instanceof KubeApiError && isGone(err) && /continue token too old/.test(err.message),
    );
    handler.current = (_req, res) => {
      res.statusCode = 403;
      res.end('forbidden: not json');
    };
    await assert.rejects(
      api.listNodes({ limit: 1, signal: new AbortController().signal }),
      (err: unknown) => err instanceof KubeApiError && err.status === 403 && !isGone(err),
    );
  });

  it('streams watch events split at arbitrary bytes, with bookmarks, then a 410 ERROR', async () => {
    let url = '';
    const lines = [
      JSON.stringify({ type: 'ADDED', object: node('ä-node', '11') }),
      JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '12' } } }),
      JSON.stringify({ type: 'DELETED', object: node('b', '13') }),
      JSON.stringify({
        type: 'ERROR',
        object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' },
      }),
    ];
    const bytes = Buffer.from(`${lines.join('\n')}\n`);
    handler.current = (req, res) => {
      url = req.url ?? '';
      res.writeHead(200, { 'Content-Type': 'application/json' });
      // Three bytes at a time: splits lines and the two-byte "ä".
      let i = 0;
      const timer = setInterval(() => {
        res.write(bytes.subarray(i, i + 3));
        i += 3;
        if (i >= bytes.length) clearInterval(timer);
      }, 0);
    };
    const got: string[] = [];
    const ac = new AbortController();
    await assert.rejects(async () => {
      for await (const ev of api.watchNodes({
        resourceVersion: '10',
        timeoutSeconds: 30,
        signal: ac.signal,
      })) {
        got.push(
          ev.type === 'BOOKMARK'
            ? `BOOKMARK ${ev.resourceVersion}`
            : `${ev.type} ${ev.object.metadata?.name}`,
        );
      }
    }, isGone);
    ac.abort();
    assert.equal(
      url,
      '/api/v1/nodes?watch=true&allowWatchBookmarks=true&resourceVersion=10&timeoutSeconds=30',
    );
    assert.deepEqual(got, ['ADDED ä-node', 'BOOKMARK 12', 'DELETED b']);
  });

  it('ends a watch the server closes, and fails a silent one after its idle timeout', async () => {
    handler.current = (_req, res) =>
      res.end(`${JSON.stringify({ type: 'ADDED', object: node('a', '2') })}\n`);
    const events = [];
    const signal = new AbortController().signal;
    for await (const ev of api.watchNodes({ resourceVersion: '1', timeoutSeconds: 30, signal }))
      events.push(ev);
    assert.equal(events.length, 1);
    handler.current = (_req, res) => res.writeHead(200).flushHeaders();
    const silent = new KubeClient(
      { server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, insecureSkipTLSVerify: false },
      { timeoutMs: 100 },
    );
    const started = Date.now();
    await assert.rejects(silent.requestJson({ path: '/api/v1/nodes' }), /no answer/);
    assert.ok(Date.now() - started < 2000);
    silent.close();
  });

  it('sends a strategic-merge patch to nodes/<name>/status', async () => {
    let seen: { method?: string; url?: string; type?: string; body?: string } = {};
    handler.current = (req, res, body) => {
      seen = { method: req.method ?? '', url: req.url ?? '', type: req.headers['content-type'] ?? '', body };
      res.end('{}');
    };
    await api.patchNodeStatus('n1', { status: { conditions: [] } }, new AbortController().signal);
    assert.deepEqual(seen, {
      method: 'PATCH',
      url: '/api/v1/nodes/n1/status',
      type: 'application/strategic-merge-patch+json',
      body: '{"status":{"conditions":[]}}',
    });
  });
});

/** A throwaway CA, a server certificate for api.weft.test only, and a client certificate. */
function makePki(dir: string): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-subj',
    '/CN=weft-test-ca',
    '-days',
    '1',
  );
  for (const [name, subj, ext] of [
    ['server', '/CN=api.weft.test', 'subjectAltName=DNS:api.weft.test'],
    ['client', '/CN=weft-agent', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    ssl(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      subj,
    );
    writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
    );
  }
}

describe('KubeClient over HTTPS with a kubeconfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-kube-tls-'));
  let server: https.Server;
  let port = '';
  const handler: { current: Handler } = {
    current: (req, res) => {
      const sock = req.socket as import('node:tls').TLSSocket;
      res.end(
        JSON.stringify({
          items: [],
          metadata: { resourceVersion: sock.getPeerCertificate().subject?.CN ?? 'none' },
        }),
      );
    },
  };
  before(async () => {
    makePki(dir);
    const read = (f: string) => readFileSync(join(dir, f));
    server = https.createServer(
      {
        key: read('server.key'),
        cert: read('server.crt'),
        ca: read('ca.crt'),
        requestCert: true,
        rejectUnauthorized: false,
      },
      serve(handler),
    );
    port = await listen(server);
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const kubeconfig = (cluster: string, user: string) =>
    `apiVersion: v1
kind: Config
current-context: c
contexts:
- name: c
  context: {cluster: k, user: u}
clusters:
- name: k
  cluster:
    server: https://127.0.0.1:${port}
${cluster}
users:
- name: u
  user:
${user}
`;

  it('verifies the server against the CA with tls-server-name and presents the client certificate', async () => {
    const ca = readFileSync(join(dir, 'ca.crt')).toString('base64');
    const text = kubeconfig(
      `    certificate-authority-data: ${ca}\n    tls-server-name: api.weft.test`,
      '    client-certificate: client.crt\n    client-key: client.key',
    );
    const client = new KubeClient(parseKubeConfig(text, dir));
    try {
      const page = await new KubeNodeApi(client).listNodes({
        limit: 1,
        signal: new AbortController().signal,
      });
      assert.equal(page.resourceVersion, 'weft-agent', 'the server saw our client certificate');
    } finally {
      client.close();
    }
  });

  it('refuses a server whose certificate does not match the expected name', async () => {
    const text = kubeconfig('    certificate-authority: ca.crt', '    token: abc');
    const client = new KubeClient(parseKubeConfig(text, dir));
    try {
      await assert.rejects(client.requestJson({ path: '/api/v1/nodes' }), /altnames|IP: 127\.0\.0\.1/i);
    } finally {
      client.close();
    }
  });
});
