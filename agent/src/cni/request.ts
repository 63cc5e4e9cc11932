import { CniCode, CniError } from './errors.js';
import type { RawCniRequest } from './framing.js';
import { type Attachment, parseNetConf, peekCniVersion, type WeftNetConf } from './netconf.js';
import type { CniVersion } from './versions.js';

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC' | 'VERSION';

/** The Kubernetes pod an attachment belongs to (from CNI_ARGS K8S_POD_NAMESPACE / K8S_POD_NAME). */
export interface PodIdentity {
  readonly namespace: string;
  readonly name: string;
}

/** An attachment with the pod's network namespace path (ADD, CHECK). */
export interface PodAttachment extends Attachment {
  readonly netns: string;
  /** Absent when the runtime passed no K8S_* arguments (not a Kubernetes pod). */
  readonly pod?: PodIdentity;
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

/** A DNS-1123 label (namespaces) and subdomain (pod names), as the API server validates them. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * CNI_ARGS (`KEY=VALUE;KEY=VALUE`, as libcni's LoadArgs reads it: every pair has
 * exactly one "=", no key twice) → the pod's identity, or undefined when neither
 * K8S_POD_NAMESPACE nor K8S_POD_NAME is given. Other keys are ignored.
 */
export function parseCniArgs(value: string | undefined): PodIdentity | undefined {
  if (value === undefined || value === '') return undefined;
  const args = new Map<string, string>();
  for (const pair of value.split(';')) {
    const kv = pair.split('=');
    if (kv.length !== 2 || kv[0] === '') badEnv('CNI_ARGS', `has an invalid pair ${JSON.stringify(pair)}`);
    const [key, val] = kv as [string, string];
    if (args.has(key)) badEnv('CNI_ARGS', `has ${key} twice`);
    args.set(key, val);
  }
  const namespace = args.get('K8S_POD_NAMESPACE');
  const name = args.get('K8S_POD_NAME');
  if (namespace === undefined && name === undefined) return undefined;
  if (namespace === undefined || !DNS_LABEL.test(namespace))
    badEnv('CNI_ARGS', 'K8S_POD_NAMESPACE must be a namespace name when K8S_POD_NAME is given');
  if (name === undefined || !DNS_SUBDOMAIN.test(name))
    badEnv('CNI_ARGS', 'K8S_POD_NAME must be a pod name when K8S_POD_NAMESPACE is given');
  return { namespace, name };
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
      const pod = parseCniArgs(raw.env.CNI_ARGS);
      const conf = parseNetConf(raw.stdin);
      if (command === 'CHECK' && conf.prevResult === undefined)
        throw new CniError(CniCode.invalidConfig, 'invalid network config', 'prevResult: required for CHECK');
      const full = { ...attachment, netns, ...(pod && { pod }) };
      return { command: command as 'ADD' | 'CHECK', conf, attachment: full };
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
