import { CniCode, CniError } from './errors.js';
import type { RawCniRequest } from './framing.js';
import { type Attachment, parseNetConf, peekCniVersion, type WeftNetConf } from './netconf.js';
import type { CniVersion } from './versions.js';

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC' | 'VERSION';

/** An attachment with the pod's network namespace path (ADD, CHECK). */
export interface PodAttachment extends Attachment {
  readonly netns: string;
}

/** A validated CNI request; each command carries what it needs, nothing optional that it requires. */
export type CniRequest =
  | { readonly command: 'ADD' | 'CHECK'; readonly conf: WeftNetConf; readonly attachment: PodAttachment }
  | {
      readonly command: 'DEL';
      readonly conf: WeftNetConf;
      readonly attachment: Attachment;
      readonly netns: string | undefined;
    }
  | { readonly command: 'STATUS' | 'GC'; readonly conf: WeftNetConf }
  | { readonly command: 'VERSION'; readonly cniVersion: CniVersion };

const COMMANDS: readonly string[] = ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC', 'VERSION'];
const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const IFNAME = /^[^/:\s]{1,15}$/;

function badEnv(name: string, why: string): never {
  throw new CniError(CniCode.invalidEnv, `invalid ${name}`, `${name} ${why}`);
}

function requireEnv(env: RawCniRequest['env'], name: string): string {
  const v = env[name];
  if (v === undefined || v === '') badEnv(name, 'is required');
  return v;
}

function parseAttachment(env: RawCniRequest['env']): Attachment {
  const containerId = requireEnv(env, 'CNI_CONTAINERID');
  if (!CONTAINER_ID.test(containerId)) badEnv('CNI_CONTAINERID', 'must be letters, digits, "_", "." or "-"');
  const ifname = requireEnv(env, 'CNI_IFNAME');
  if (!IFNAME.test(ifname) || ifname === '.' || ifname === '..')
    badEnv('CNI_IFNAME', 'must be a valid interface name (1-15 characters, no "/", ":" or spaces)');
  return { containerId, ifname };
}

function parseNetns(value: string): string {
  if (!value.startsWith('/')) badEnv('CNI_NETNS', 'must be an absolute path');
  return value;
}

/**
 * Turns what the shim forwarded into a typed request: 4 for a bad environment,
 * 6/7/1 for the config (see parseNetConf). The environment is checked first.
 * STATUS and GC exist from spec 1.1.0 on (an older config gets 1, as the
 * reference skel answers); DEL, STATUS and GC ignore `prevResult`.
 */
export function parseCniRequest(raw: RawCniRequest): CniRequest {
  const command = raw.env.CNI_COMMAND;
  if (command === undefined || command === '') badEnv('CNI_COMMAND', 'is required');
  if (!COMMANDS.includes(command)) badEnv('CNI_COMMAND', `must be one of ${COMMANDS.join(', ')}`);
  switch (command as CniCommand) {
    case 'ADD':
    case 'CHECK': {
      const attachment = parseAttachment(raw.env);
      const netns = parseNetns(requireEnv(raw.env, 'CNI_NETNS'));
      const conf = parseNetConf(raw.stdin);
      if (command === 'CHECK' && conf.prevResult === undefined)
        throw new CniError(CniCode.invalidConfig, 'invalid network config', 'prevResult: required for CHECK');
      return { command: command as 'ADD' | 'CHECK', conf, attachment: { ...attachment, netns } };
    }
    case 'DEL': {
      const attachment = parseAttachment(raw.env);
      const netnsEnv = raw.env.CNI_NETNS;
      const netns = netnsEnv ? parseNetns(netnsEnv) : undefined;
      return { command: 'DEL', conf: parseNetConf(raw.stdin, { prevResult: false }), attachment, netns };
    }
    case 'VERSION':
      return { command: 'VERSION', cniVersion: peekCniVersion(raw.stdin) };
    default: {
      const since = { command, version: '1.1.0' } as const;
      return {
        command: command as 'STATUS' | 'GC',
        conf: parseNetConf(raw.stdin, { prevResult: false, since }),
      };
    }
  }
}
