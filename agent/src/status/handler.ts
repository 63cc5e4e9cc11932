import type { IncomingMessage, ServerResponse } from 'node:http';
import { computeStatus, type StatusInputs } from './status.js';

export const STATUS_PATH = '/api/v1/status';

/** Reads the agent's parts at request time (everything computeStatus needs but the clock). */
export type StatusSource = () => Omit<StatusInputs, 'nowMs'>;

/** The /api/v1/status route: mount with http.addRoute(STATUS_PATH, statusHandler(...)). */
export function statusHandler(
  source: StatusSource,
  now: () => number = Date.now,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' });
      res.end();
      return;
    }
    const body = JSON.stringify(computeStatus({ ...source(), nowMs: now() }));
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
