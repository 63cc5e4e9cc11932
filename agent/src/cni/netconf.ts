import { CniCode, CniError } from './errors.js';
import { type CniResult, parsePrevResult } from './result.js';
import {
  type CniVersion,
  isSupportedVersion,
  LATEST_CNI_VERSION,
  SUPPORTED_CNI_VERSIONS,
} from './versions.js';

/** One attachment as named by the runtime: container id + interface name. */
export interface Attachment {
  readonly containerId: string;
  readonly ifname: string;
}

/** The weft plugin's network config (stdin), validated. */
export interface WeftNetConf {
  readonly cniVersion: CniVersion;
  readonly name: string;
  readonly type: string;
  /** The agent socket the shim used (informational on the agent side). */
  readonly socket: string | undefined;
  readonly prevResult: CniResult | undefined;
  /** GC only: `cni.dev/valid-attachments`. */
  readonly validAttachments: readonly Attachment[] | undefined;
}

const NETWORK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

function invalid(field: string, why: string): never {
  throw new CniError(CniCode.invalidConfig, 'invalid network config', `${field}: ${why}`);
}

/** Reads cniVersion leniently, for error replies to configs that fail validation. */
export function peekCniVersion(stdin: Buffer): CniVersion {
  try {
    const v = (JSON.parse(stdin.toString('utf8')) as { cniVersion?: unknown }).cniVersion;
    return typeof v === 'string' && isSupportedVersion(v) ? v : LATEST_CNI_VERSION;
  } catch {
    return LATEST_CNI_VERSION;
  }
}

function parseValidAttachments(raw: unknown): Attachment[] | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw)) invalid('cni.dev/valid-attachments', 'must be an array');
  return raw.map((item: unknown, i) => {
    const o = item as { containerID?: unknown; ifname?: unknown } | null;
    if (typeof o?.containerID !== 'string' || typeof o.ifname !== 'string')
      invalid(`cni.dev/valid-attachments[${i}]`, 'needs string containerID and ifname');
    return { containerId: o.containerID, ifname: o.ifname };
  });
}

/**
 * Parses the config on stdin: 6 when it is not a JSON object, 1 for an
 * unsupported cniVersion, 7 for a missing or malformed field.
 */
export function parseNetConf(stdin: Buffer): WeftNetConf {
  let raw: unknown;
  try {
    raw = JSON.parse(stdin.toString('utf8'));
  } catch (err) {
    throw new CniError(CniCode.decodeFailure, 'cannot decode the network config', (err as Error).message);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new CniError(
      CniCode.decodeFailure,
      'cannot decode the network config',
      'stdin is not a JSON object',
    );
  const o = raw as Record<string, unknown>;
  if (typeof o.cniVersion !== 'string' || o.cniVersion === '') invalid('cniVersion', 'missing');
  if (!isSupportedVersion(o.cniVersion))
    throw new CniError(
      CniCode.incompatibleVersion,
      'incompatible CNI version',
      `cniVersion ${JSON.stringify(o.cniVersion)} is not one of ${SUPPORTED_CNI_VERSIONS.join(', ')}`,
    );
  if (typeof o.name !== 'string' || !NETWORK_NAME.test(o.name))
    invalid('name', 'must be 1-128 characters of letters, digits, "_", "." or "-"');
  if (typeof o.type !== 'string' || o.type === '') invalid('type', 'must be a non-empty string');
  if (o.socket !== undefined && typeof o.socket !== 'string') invalid('socket', 'must be a string');
  return {
    cniVersion: o.cniVersion,
    name: o.name,
    type: o.type,
    socket: o.socket,
    prevResult: o.prevResult === undefined ? undefined : parsePrevResult(o.prevResult),
    validAttachments: parseValidAttachments(o['cni.dev/valid-attachments']),
  };
}
