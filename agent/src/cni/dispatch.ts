import { errorMessage } from '../../../common/errors.js';
import { cmdAdd } from './cmd-add.js';
import { cmdCheck } from './cmd-check.js';
import { cmdDel } from './cmd-del.js';
import { cmdGc } from './cmd-gc.js';
import { cmdStatus, cmdVersion } from './cmd-status.js';
import type { CniContext } from './context.js';
import { CniCode, CniError, type CniErrorBody } from './errors.js';
import type { RawCniRequest } from './framing.js';
import type { CniMetrics } from './metrics.js';
import { peekCniVersion } from './netconf.js';
import { type CniRequest, parseCniRequest } from './request.js';

export interface CniReply {
  readonly exitCode: 0 | 1;
  /** What the shim prints on stdout. */
  readonly body: string;
}

const COMMAND_LABELS = new Set(['ADD', 'DEL', 'CHECK', 'STATUS', 'GC', 'VERSION']);

/** One function per verb. */
function dispatchCniRequest(ctx: CniContext, req: CniRequest): Promise<object | undefined> {
  switch (req.command) {
    case 'ADD':
      return cmdAdd(ctx, req.conf, req.attachment);
    case 'DEL':
      return cmdDel(ctx, req.conf, req.attachment);
    case 'CHECK':
      return cmdCheck(ctx, req.conf, req.attachment);
    case 'STATUS':
      return cmdStatus(ctx, req.conf);
    case 'GC':
      return cmdGc(ctx, req.conf);
    case 'VERSION':
      return Promise.resolve(cmdVersion(req.cniVersion));
  }
}

/** The one place where any failure becomes the spec's error object (999 only for the unexpected). */
export function toCniErrorBody(err: unknown, cniVersion: string): CniErrorBody {
  if (err instanceof CniError)
    return { cniVersion, code: err.cniCode, msg: err.message, details: err.details };
  return {
    cniVersion,
    code: CniCode.lastResort,
    msg: 'internal error in the Weft agent',
    details: errorMessage(err),
  };
}

/** Parses, dispatches, converts errors, records metrics and logs; never throws. */
export async function handleCniRequest(
  ctx: CniContext,
  metrics: CniMetrics,
  raw: RawCniRequest,
): Promise<CniReply> {
  const started = process.hrtime.bigint();
  const env = raw.env;
  const command = COMMAND_LABELS.has(env.CNI_COMMAND ?? '') ? (env.CNI_COMMAND as string) : 'unknown';
  const fields = { op: command, containerId: env.CNI_CONTAINERID, ifname: env.CNI_IFNAME };
  let reply: CniReply;
  let result = 'ok';
  try {
    const out = await dispatchCniRequest(ctx, parseCniRequest(raw));
    reply = { exitCode: 0, body: out === undefined ? '' : JSON.stringify(out) };
  } catch (err) {
    const body = toCniErrorBody(err, peekCniVersion(raw.stdin));
    result = String(body.code);
    const level = body.code === CniCode.lastResort ? 'error' : 'warn';
    ctx.log[level]({ ...fields, code: body.code, err }, 'CNI request failed');
    reply = { exitCode: 1, body: JSON.stringify(body) };
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  metrics.requests.inc({ command, result });
  metrics.duration.observe({ command }, seconds);
  ctx.log.debug({ ...fields, durationMs: seconds * 1000, result }, 'CNI request served');
  return reply;
}
