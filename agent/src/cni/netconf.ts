import { CniCode, CniError } from './errors.js';
import { type CniResult, parsePrevResult } from './result.js';
import {
  type CniVersion,
  compareVersions,
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
  /** GC only: `cni.dev/valid-attachments` (or `cni.dev/attachments`); null reads as []. */
  readonly validAttachments: readonly Attachment[] | undefined;
}

export interface ParseNetConfOptions {
  /**
   * Parse `prevResult` (default). DEL, STATUS and GC do not use it: a malformed
   * one must not fail a DEL, which the spec wants to succeed whatever is left.
   */
  readonly prevResult?: boolean;
  /** The first spec version that defines the command (STATUS, GC: 1.1.0); older configs get error 1. */
  readonly since?: { readonly command: string; readonly version: CniVersion };
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

/**
 * GC's still-valid attachments. libcni sends the list under both the spec's name
 * and `cni.dev/attachments` (an early spec typo, containernetworking/cni#1101), and
 * marshals an empty Go slice as null: no attachment is valid.
 */
function parseValidAttachments(o: Record<string, unknown>): Attachment[] | undefined {
  const key = 'cni.dev/valid-attachments' in o ? 'cni.dev/valid-attachments' : 'cni.dev/attachments';
  const raw = o[key];
  if (raw === undefined) return undefined;
  if (raw === null) return [];
  if (!Array.isArray(raw)) invalid(key, 'must be an array');
  return raw.map((item: unknown, i) => {
    const a = item as { containerID?: unknown; ifname?: unknown } | null;
    if (typeof a?.containerID !== 'string' || typeof a.ifname !== 'string')
      invalid(`${key}[${i}]`, 'needs string containerID and ifname');
    return { containerId: a.containerID, ifname: a.ifname };
  });
}

/**
 * Parses the config on stdin: 6 when it is not a JSON object, 1 for an
 * unsupported cniVersion (or one older than the command), 7 for a missing or
 * malformed field.
 */
export function parseNetConf(stdin: Buffer, options: ParseNetConfOptions = {}): WeftNetConf {
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
  const since = options.since;
  if (since && compareVersions(o.cniVersion, since.version) < 0)
    throw new CniError(
      CniCode.incompatibleVersion,
      'incompatible CNI version',
      `${since.command} exists from CNI ${since.version} on; the config says ${o.cniVersion}`,
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
    prevResult:
      o.prevResult === undefined || options.prevResult === false ? undefined : parsePrevResult(o.prevResult),
    validAttachments: parseValidAttachments(o),
  };
}
