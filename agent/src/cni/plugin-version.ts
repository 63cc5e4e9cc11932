import { execFile } from 'node:child_process';
import { WeftError } from '../../../common/errors.js';
import { LATEST_CNI_VERSION } from './versions.js';

/** A chained plugin that cannot say which CNI versions it speaks (so no conflist can be chosen). */
export class PluginVersionError extends WeftError {
  constructor(message: string, cause?: unknown) {
    super('EPLUGINVERSION', message, { cause });
  }
}

/**
 * Parses a plugin's answer to CNI_COMMAND=VERSION (`{"cniVersion", "supportedVersions": [...]}`)
 * into its version list; throws PluginVersionError for anything else.
 */
export function parseVersionAnswer(stdout: string): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw new PluginVersionError(`answer is not JSON: ${JSON.stringify(stdout.slice(0, 120))}`);
  }
  const v = (doc as { supportedVersions?: unknown } | null)?.supportedVersions;
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string'))
    throw new PluginVersionError(`answer has no supportedVersions list: ${stdout.slice(0, 120).trim()}`);
  return v;
}

/**
 * Asks a plugin binary which spec versions it supports, as a runtime would
 * (CNI_COMMAND=VERSION, `{"cniVersion"}` on stdin). Throws PluginVersionError
 * saying why when it cannot be run, fails, or answers something else.
 */
export function probePluginVersions(binary: string, timeoutMs = 5000): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      binary,
      [],
      { env: { CNI_COMMAND: 'VERSION' }, timeout: timeoutMs },
      (err, stdout, stderr) => {
        if (err) {
          const said = `${stdout}`.trim() || `${stderr}`.trim();
          const why = err.killed
            ? `no answer within ${timeoutMs} ms`
            : typeof err.code === 'number'
              ? `exit ${err.code}`
              : err.message;
          reject(new PluginVersionError(`${binary} VERSION failed: ${why}${said ? ` (${said})` : ''}`, err));
          return;
        }
        try {
          resolve(parseVersionAnswer(`${stdout}`));
        } catch (e: unknown) {
          reject(new PluginVersionError(`${binary} VERSION: ${(e as Error).message}`, e));
        }
      },
    );
    child.stdin?.on('error', () => {}); // a plugin that exits without reading: EPIPE
    child.stdin?.end(JSON.stringify({ cniVersion: LATEST_CNI_VERSION }));
  });
}
