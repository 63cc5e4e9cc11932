import { WeftError } from '../../../common/errors.js';

export type WireguardErrorCode =
  | 'EKEYFILE' // the node's key file is unreadable or malformed (never replaced silently)
  | 'EBADKEY' // a public key that is not 32 bytes of base64
  | 'EWGDUMP' // `wg show … dump` output that does not parse
  | 'ENOIMPL' // neither the kernel module nor wireguard-go is available
  | 'EUSERSPACE' // wireguard-go did not bring the device up, or exited
  | 'EWGAPPLY'; // a `wg` or `ip` command of a plan failed

export class WireguardError extends WeftError {
  declare readonly code: WireguardErrorCode;
  constructor(code: WireguardErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
