import { request } from 'node:https';

/** How the harness itself talks to the API server from the root netns (TLS verified against the cluster CA). */
export interface ApiEndpoint {
  url: string; // https://127.0.0.1:<admin port>
  caPem: string;
  token: string;
}

export interface ApiResponse {
  status: number;
  body: string;
}

/** One HTTPS request; network errors reject, any HTTP status resolves. */
export function apiRequest(
  ep: ApiEndpoint,
  method: string,
  path: string,
  opts: { body?: string; timeoutMs?: number } = {},
): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, ep.url);
    const req = request(
      url,
      {
        method,
        ca: ep.caPem,
        headers: {
          authorization: `Bearer ${ep.token}`,
          accept: 'application/json',
          ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        timeout: opts.timeoutMs ?? 5000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}
