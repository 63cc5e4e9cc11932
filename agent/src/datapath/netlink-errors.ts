import { WeftError } from '../../../common/errors.js';

/**
 * Kernel/tool failures as stable codes. `ip`, `bridge` and `nft` print errno text
 * on stderr; this file is the one place that turns that text into a code.
 */
export type NetlinkErrorCode =
  | 'EEXIST' // "File exists"
  | 'ENOTABLE' // "FIB table does not exist" (a routing table with no route yet)
  | 'ENODEV' // "Cannot find device", "No such device", "does not exist"
  | 'ESRCH' // "No such process" (route/neighbour to delete is not there)
  | 'ENOENT' // "No such file or directory" (fdb entry, nft table, netns)
  | 'EINVAL' // "Invalid argument", syntax errors
  | 'EPERM' // "Operation not permitted"
  | 'ENETUNREACH' // "Network is unreachable" / "Nexthop has invalid gateway"
  | 'EAFNOSUPPORT' // "Address family not supported by protocol" (IPv6 disabled at boot)
  | 'EEXEC' // the tool itself could not be run
  | 'ENETLINK'; // anything else

export class NetlinkError extends WeftError {
  declare readonly code: NetlinkErrorCode;
  /** The command (or batch line) that failed, for the log. */
  readonly command: string;
  constructor(code: NetlinkErrorCode, command: string, detail: string, options?: { cause?: unknown }) {
    super(code, `${command}: ${detail}`, options);
    this.command = command;
  }
}

const PATTERNS: ReadonlyArray<readonly [RegExp, NetlinkErrorCode]> = [
  [/File exists/i, 'EEXIST'],
  [/FIB table does not exist/i, 'ENOTABLE'],
  [/Cannot find device|No such device|does not exist/i, 'ENODEV'],
  [/No such process/i, 'ESRCH'],
  [/No such file or directory/i, 'ENOENT'],
  [/Operation not permitted|Permission denied/i, 'EPERM'],
  [/Network is unreachable|Nexthop has invalid gateway/i, 'ENETUNREACH'],
  [/Address family not supported/i, 'EAFNOSUPPORT'],
  [/Invalid argument|syntax error|Error: (?:either|argument)/i, 'EINVAL'],
];

/** Maps a tool's stderr text to an error code. */
export function classifyStderr(stderr: string): NetlinkErrorCode {
  for (const [re, code] of PATTERNS) if (re.test(stderr)) return code;
  return 'ENETLINK';
}

export function isNetlinkError(err: unknown, ...codes: NetlinkErrorCode[]): err is NetlinkError {
  return err instanceof NetlinkError && (codes.length === 0 || codes.includes(err.code));
}

/** One failed line of an `ip -batch` / `bridge -batch` run. */
export interface BatchFailure {
  /** 0-based index into the submitted lines. */
  readonly index: number;
  readonly line: string;
  readonly error: NetlinkError;
}

const FAILED_LINE = /^Command failed (?:-|\S+):(\d+)\s*$/;

/**
 * Splits the stderr of `ip -batch - -force` into per-line failures: iproute2
 * prints the error text, then "Command failed -:<line>" (1-based).
 */
export function parseBatchFailures(stderr: string, lines: readonly string[]): BatchFailure[] {
  const failures: BatchFailure[] = [];
  let pending: string[] = [];
  for (const text of stderr.split('\n')) {
    const m = FAILED_LINE.exec(text);
    if (!m) {
      if (text.trim() !== '') pending.push(text.trim());
      continue;
    }
    const index = Number(m[1]) - 1;
    const line = lines[index] ?? '';
    const detail = pending.join('; ') || 'failed';
    failures.push({ index, line, error: new NetlinkError(classifyStderr(detail), line, detail) });
    pending = [];
  }
  return failures;
}
