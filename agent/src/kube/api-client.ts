import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { WeftError } from '../../../common/errors.js';
import type { KubeTarget } from './kubeconfig.js';

/** A non-2xx answer from the API server (or a watch ERROR event), with its Status fields. */
export class KubeApiError extends WeftError {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, message: string) {
    super(status === 410 ? 'EGONE' : 'EKUBEAPI', `API server: ${status} ${reason}: ${message}`);
    this.status = status;
    this.reason = reason;
  }
}

/** True for 410 Gone: the resourceVersion (or continue token) expired and a fresh list is needed. */
export const isGone = (err: unknown): boolean => err instanceof KubeApiError && err.status === 410;

export interface KubeRequest {
  readonly method?: 'GET' | 'PATCH' | 'POST' | 'PUT' | 'DELETE';
  /** Path plus query, e.g. /api/v1/nodes?limit=500. */
  readonly path: string;
  readonly body?: unknown;
  readonly contentType?: string;
  readonly signal?: AbortSignal;
  /** Whole-request timeout for requestJson; idle (no bytes) timeout for openStream. */
  readonly timeoutMs?: number;
}

/** Turns a Kubernetes Status body (or any text) into a KubeApiError. */
export function parseStatusError(status: number, text: string): KubeApiError {
  try {
    const s = JSON.parse(text) as { reason?: unknown; message?: unknown; code?: unknown };
    const code = typeof s.code === 'number' ? s.code : status;
    return new KubeApiError(code, String(s.reason ?? 'Unknown'), String(s.message ?? text.slice(0, 200)));
  } catch {
    return new KubeApiError(status, 'Unknown', text.slice(0, 200));
  }
}

/**
 * The agent's own, minimal Kubernetes API client: JSON requests and streamed
 * responses over one keep-alive agent, with the kubeconfig's CA, client
 * certificate or bearer token. No generated models, no informer machinery.
 */
export class KubeClient {
  readonly #target: KubeTarget;
  readonly #agent: http.Agent;
  readonly #https: boolean;
  readonly #defaultTimeoutMs: number;

  constructor(target: KubeTarget, opts: { timeoutMs?: number } = {}) {
    this.#target = target;
    this.#https = target.server.startsWith('https:');
    this.#defaultTimeoutMs = opts.timeoutMs ?? 30_000;
    this.#agent = this.#https
      ? new https.Agent({
          keepAlive: true,
          ...(target.ca ? { ca: target.ca } : {}),
          ...(target.cert ? { cert: target.cert } : {}),
          ...(target.key ? { key: target.key } : {}),
          ...(target.tlsServerName ? { servername: target.tlsServerName } : {}),
          rejectUnauthorized: !target.insecureSkipTLSVerify,
        })
      : new http.Agent({ keepAlive: true });
  }

  /** Sends a request and parses the JSON answer; a non-2xx answer throws KubeApiError. */
  async requestJson<T>(req: KubeRequest): Promise<T> {
    const timeoutMs = req.timeoutMs ?? this.#defaultTimeoutMs;
    const res = await this.#send(req, timeoutMs);
    const text = await readBody(res);
    if ((res.statusCode ?? 0) >= 300) throw parseStatusError(res.statusCode ?? 0, text);
    return JSON.parse(text) as T;
  }

  /**
   * Opens a streamed GET (a watch). Resolves with the 2xx response once its
   * headers arrive; the stream errors when no byte arrives for `timeoutMs`.
   */
  async openStream(req: KubeRequest): Promise<IncomingMessage> {
    const res = await this.#send(req, req.timeoutMs ?? this.#defaultTimeoutMs);
    if ((res.statusCode ?? 0) >= 300) throw parseStatusError(res.statusCode ?? 0, await readBody(res));
    return res;
  }

  close(): void {
    this.#agent.destroy();
  }

  #send(req: KubeRequest, timeoutMs: number): Promise<IncomingMessage> {
    const url = new URL(this.#target.server + req.path);
    const headers: Record<string, string> = { Accept: 'application/json' };
    const token = this.#target.token?.();
    if (token) headers.Authorization = `Bearer ${token}`;
    let payload: Buffer | undefined;
    if (req.body !== undefined) {
      payload = Buffer.from(JSON.stringify(req.body));
      headers['Content-Type'] = req.contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const mod = this.#https ? https : http;
    return new Promise((resolve, reject) => {
      const r = mod.request(url, {
        method: req.method ?? 'GET',
        headers,
        agent: this.#agent,
        timeout: timeoutMs,
        ...(req.signal ? { signal: req.signal } : {}),
      });
      let response: IncomingMessage | undefined;
      r.on('timeout', () => {
        const err = new WeftError('ETIMEDOUT', `no answer from ${url.host} in ${timeoutMs} ms`);
        response?.destroy(err);
        r.destroy(err);
      });
      r.on('error', reject);
      r.on('response', (res) => {
        response = res;
        resolve(res);
      });
      r.end(payload);
    });
  }
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
    res.on('close', () => {
      if (!res.complete)
        reject(new WeftError('ECONNRESET', 'connection closed before the answer was complete'));
    });
  });
}
