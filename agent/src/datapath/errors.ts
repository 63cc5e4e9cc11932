import { WeftError } from '../../../common/errors.js';
import type { BatchFailure } from './netlink-errors.js';

export type DatapathErrorCode =
  | 'ENOPODCIDR' // own node has no (IPv4) podCIDR yet
  | 'ENOWIREGUARD' // encryption configured, but no WireGuard device available
  | 'EBADSELF' // own node's underlayIP / podCIDR unusable
  | 'ENOUNDERLAY' // no interface holds the own underlayIP
  | 'EAPPLY'; // some planned changes failed

export class DatapathError extends WeftError {
  declare readonly code: DatapathErrorCode;
  constructor(code: DatapathErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Some operations of a plan failed; the others were applied. */
export class DatapathApplyError extends DatapathError {
  readonly failures: readonly BatchFailure[];
  constructor(failures: readonly BatchFailure[]) {
    const first = failures[0];
    const more = failures.length > 1 ? ` (and ${failures.length - 1} more)` : '';
    super('EAPPLY', `datapath apply failed: ${first ? first.error.message : 'unknown'}${more}`, {
      cause: first?.error,
    });
    this.failures = failures;
  }
}
