import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { formatHostPort } from '../../../common/ip.js';
import type { Logger } from '../../../common/log.js';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** One named check; `ok: false` turns the endpoint into 503 with `detail` in the body. */
export interface Check {
  readonly name: string;
  readonly check: () => { ok: boolean; detail?: string };
}

export interface AgentHttpServerOptions {
  readonly registry: Registry;
  readonly log: Logger;
  /** /healthz: all must pass (process alive, loops not stuck). */
  readonly liveness: readonly Check[];
  /** /readyz: all must pass (first successful reconcile done). */
  readonly readiness: readonly Check[];
}

/**
 * The agent's HTTP endpoint: /healthz, /readyz, /metrics, plus routes that other
 * components add (e.g. the status API: addRoute('/api/v1/status', handler)).
 * Routes match the path exactly (query string ignored).
 */
export class AgentHttpServer {
  readonly #opts: AgentHttpServerOptions;
  readonly #routes = new Map<string, RouteHandler>();
  readonly #server: Server;

  constructor(opts: AgentHttpServerOptions) {
    this.#opts = opts;
    this.#routes.set('/healthz', (_req, res) => this.#respondChecks(res, opts.liveness));
    this.#routes.set('/readyz', (_req, res) => this.#respondChecks(res, opts.readiness));
    this.#routes.set('/metrics', async (_req, res) => {
      const body = await opts.registry.metrics();
      res.writeHead(200, { 'content-type': opts.registry.contentType });
      res.end(body);
    });
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.keepAliveTimeout = 5000;
  }

  /** Adds a route; a path can be registered once. */
  addRoute(path: string, handler: RouteHandler): void {
    if (this.#routes.has(path)) throw new Error(`route ${path} already registered`);
    this.#routes.set(path, handler);
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const address = this.#server.address() as AddressInfo;
    this.#opts.log.info(
      { op: 'listen', addr: formatHostPort(address.address, address.port) },
      'http server listening',
    );
    return address;
  }

  async close(): Promise<void> {
    if (!this.#server.listening) return;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const handler = this.#routes.get(path);
    if (!handler) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
      return;
    }
    try {
      await handler(req, res);
    } catch (err: unknown) {
      this.#opts.log.warn({ err, op: 'http', path }, 'http handler failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    }
  }

  #respondChecks(res: ServerResponse, checks: readonly Check[]): void {
    const failed = checks
      .map((c) => ({ name: c.name, ...c.check() }))
      .filter((r) => !r.ok)
      .map((r) => `${r.name}: ${r.detail ?? 'failing'}`);
    res.writeHead(failed.length === 0 ? 200 : 503, { 'content-type': 'text/plain' });
    res.end(failed.length === 0 ? 'ok\n' : `${failed.join('\n')}\n`);
  }
}
