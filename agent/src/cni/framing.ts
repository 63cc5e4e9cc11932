/**
 * The wire format between the CNI shim (agent/cni-shim) and the agent, version 1.
 *
 *   request:  "WEFTCNI 1 <stdin-length>\n" + ("NAME=value\n" per CNI_* variable) + "\n" + stdin bytes
 *   response: "WEFTCNI 1 <exit-code> <body-length>\n" + body bytes (printed verbatim by the shim)
 *
 * Lengths are decimal byte counts. The request is complete once the stdin bytes
 * have arrived, so neither side relies on half-closing the socket.
 */

export const MAX_STDIN_BYTES = 1024 * 1024;
const MAX_HEAD_BYTES = 64 * 1024;
const REQUEST_HEADER = /^WEFTCNI 1 (\d{1,8})$/;

/** A request as the shim sent it: raw environment and raw stdin, not yet validated. */
export interface RawCniRequest {
  readonly env: Readonly<Record<string, string>>;
  readonly stdin: Buffer;
}

export class FrameError extends Error {}

/**
 * Decodes a request from the bytes received so far: the request, or undefined
 * when more bytes are needed. Throws FrameError on a malformed or oversized frame.
 */
export function decodeRequestFrame(bytes: Buffer): RawCniRequest | undefined {
  const headEnd = bytes.indexOf('\n\n');
  if (headEnd < 0) {
    if (bytes.length > MAX_HEAD_BYTES) throw new FrameError('request head exceeds 64 KiB');
    return undefined;
  }
  const lines = bytes.subarray(0, headEnd).toString('utf8').split('\n');
  const m = REQUEST_HEADER.exec(lines[0] ?? '');
  if (!m) throw new FrameError(`bad request header ${JSON.stringify(lines[0]?.slice(0, 40))}`);
  const stdinLength = Number(m[1]);
  if (stdinLength > MAX_STDIN_BYTES) throw new FrameError(`stdin of ${stdinLength} bytes exceeds 1 MiB`);
  const bodyStart = headEnd + 2;
  if (bytes.length < bodyStart + stdinLength) return undefined;
  if (bytes.length > bodyStart + stdinLength) throw new FrameError('bytes after the end of the request');
  const env: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const eq = line.indexOf('=');
    if (eq <= 0) throw new FrameError(`bad environment line ${JSON.stringify(line.slice(0, 40))}`);
    env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return { env, stdin: bytes.subarray(bodyStart) };
}

/** Encodes a request the way the shim does (tests, tools). */
export function encodeRequestFrame(env: Readonly<Record<string, string>>, stdin: Buffer | string): Buffer {
  const body = typeof stdin === 'string' ? Buffer.from(stdin) : stdin;
  const envLines = Object.entries(env)
    .map(([k, v]) => `${k}=${v}\n`)
    .join('');
  return Buffer.concat([Buffer.from(`WEFTCNI 1 ${body.length}\n${envLines}\n`), body]);
}

export function encodeResponseFrame(exitCode: number, body: string): Buffer {
  const bytes = Buffer.from(body);
  return Buffer.concat([Buffer.from(`WEFTCNI 1 ${exitCode} ${bytes.length}\n`), bytes]);
}
