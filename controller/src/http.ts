import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../../common/log.js';
import type { HttpAddress } from './options.js';
import type { ProbeResult } from './probes.js';

export interface HttpProbes {
  readonly healthz: () => ProbeResult;
  readonly readyz: () => ProbeResult;
}

export interface RunningHttpServer {
  /** the bound port (useful with port 0) */
  readonly port: number;
  close(): Promise<void>;
}

/** Serves /healthz, /readyz (200 or 503 with the reason) and /metrics from `registry`. */
export async function startHttpServer(
  address: HttpAddress,
  registry: Registry,
  probes: HttpProbes,
  log: Logger,
): Promise<RunningHttpServer> {
  const server = createServer((req, res) => {
    handle(req, res, registry, probes).catch((err: unknown) => {
      log.warn({ op: 'http', err: String(err) }, 'http handler failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ op: 'http', host: address.host, port }, 'http listening');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  registry: Registry,
  probes: HttpProbes,
): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  if (path === '/healthz' || path === '/readyz') {
    const result = path === '/healthz' ? probes.healthz() : probes.readyz();
    res.writeHead(result.ok ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`${result.ok ? 'ok' : 'not ok'}: ${result.detail}\n`);
    return;
  }
  if (path === '/metrics') {
    const body = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType }).end(body);
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
}
