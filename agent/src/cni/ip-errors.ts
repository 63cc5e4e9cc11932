import { WeftError } from '../../../common/errors.js';

/** A failed `ip` invocation; `code` classifies the kernel's answer. */
export class IpCommandError extends WeftError {
  readonly stderr: string;
  constructor(code: 'ENODEV' | 'EEXIST' | 'ENOENT' | 'EIP', message: string, stderr: string) {
    super(code, message);
    this.stderr = stderr;
  }
}

/** Maps ip's error text to a code. */
export function classifyIpError(stderr: string): 'ENODEV' | 'EEXIST' | 'ENOENT' | 'EIP' {
  if (/Cannot find device|does not exist/.test(stderr)) return 'ENODEV';
  if (/File exists/.test(stderr)) return 'EEXIST';
  if (/No such file or directory|Invalid argument.*netns|reassociate/.test(stderr)) return 'ENOENT';
  return 'EIP';
}
