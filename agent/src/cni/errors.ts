import { WeftError } from '../../../common/errors.js';

/** CNI error codes (spec section "Error codes"), plus Weft's own from 100 up. */
export const CniCode = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  unknownContainer: 3,
  invalidEnv: 4,
  ioFailure: 5,
  decodeFailure: 6,
  invalidConfig: 7,
  tryAgainLater: 11,
  notAvailable: 50,
  limitedAvailability: 51,
  poolExhausted: 100,
  alreadyAttached: 101,
  plumbingFailed: 102,
  stateNotPersisted: 103,
  checkFailed: 104,
  lastResort: 999,
} as const;

export type CniCodeValue = (typeof CniCode)[keyof typeof CniCode];

/** A failure that leaves the CNI server as `{cniVersion, code, msg, details}`. */
export class CniError extends WeftError {
  readonly cniCode: number;
  readonly details: string;
  constructor(cniCode: number, msg: string, details: string, options?: { cause?: unknown }) {
    super(`ECNI${cniCode}`, msg, options);
    this.cniCode = cniCode;
    this.details = details;
  }
}

/** The spec's error object. */
export interface CniErrorBody {
  readonly cniVersion: string;
  readonly code: number;
  readonly msg: string;
  readonly details: string;
}
