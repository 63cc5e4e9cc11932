import { CniCode, CniError } from './errors.js';
import { type CniVersion, compareVersions, isLegacyResultVersion } from './versions.js';

/** A CNI result in Weft's internal (1.1) shape. */
export interface CniInterface {
  readonly name: string;
  readonly mac?: string;
  readonly mtu?: number;
  readonly sandbox?: string;
}

export interface CniIpConfig {
  /** Address with prefix length, "10.244.1.5/24". */
  readonly address: string;
  readonly gateway?: string;
  /** Index into `interfaces`. */
  readonly interface?: number;
}

export interface CniRoute {
  readonly dst: string;
  readonly gw?: string;
}

export interface CniResult {
  readonly interfaces: readonly CniInterface[];
  readonly ips: readonly CniIpConfig[];
  readonly routes: readonly CniRoute[];
  readonly dns: Readonly<Record<string, unknown>>;
}

/**
 * Renders a result in the version the runtime asked for: 0.3.x/0.4.0 carry an IP
 * `version` ("4"/"6"); 1.0.0 drops it; interface `mtu` exists from 1.1.0 on.
 */
export function formatResult(result: CniResult, version: CniVersion): Record<string, unknown> {
  const withMtu = compareVersions(version, '1.1.0') >= 0;
  const legacy = isLegacyResultVersion(version);
  return {
    cniVersion: version,
    interfaces: result.interfaces.map(({ mtu, ...rest }) =>
      withMtu && mtu !== undefined ? { ...rest, mtu } : rest,
    ),
    ips: result.ips.map((ip) => (legacy ? { version: ip.address.includes(':') ? '6' : '4', ...ip } : ip)),
    routes: result.routes,
    dns: result.dns,
  };
}

function fail(field: string, why: string): never {
  throw new CniError(CniCode.invalidConfig, 'invalid prevResult', `prevResult.${field}: ${why}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optionalString(o: Record<string, unknown>, key: string, field: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') fail(`${field}.${key}`, 'must be a string');
  return v;
}

function arrayOf(o: Record<string, unknown>, key: string): Record<string, unknown>[] {
  const v = o[key] ?? [];
  if (!Array.isArray(v)) fail(key, 'must be an array');
  return v.map((item, i) => (isObject(item) ? item : fail(`${key}[${i}]`, 'must be an object')));
}

/** Parses a prevResult of any supported version into the internal shape. */
export function parsePrevResult(raw: unknown): CniResult {
  if (!isObject(raw)) fail('', 'must be an object');
  const interfaces = arrayOf(raw, 'interfaces').map((o, i): CniInterface => {
    const name = o.name;
    if (typeof name !== 'string' || name === '') fail(`interfaces[${i}].name`, 'must be a non-empty string');
    const mac = optionalString(o, 'mac', `interfaces[${i}]`);
    const sandbox = optionalString(o, 'sandbox', `interfaces[${i}]`);
    const mtu = typeof o.mtu === 'number' ? o.mtu : undefined;
    return {
      name,
      ...(mac !== undefined && { mac }),
      ...(mtu !== undefined && { mtu }),
      ...(sandbox !== undefined && { sandbox }),
    };
  });
  const ips = arrayOf(raw, 'ips').map((o, i): CniIpConfig => {
    const address = o.address;
    if (typeof address !== 'string' || !address.includes('/')) fail(`ips[${i}].address`, 'must be a CIDR');
    const gateway = optionalString(o, 'gateway', `ips[${i}]`);
    const iface = o.interface;
    if (iface !== undefined && (typeof iface !== 'number' || !Number.isInteger(iface) || iface < 0))
      fail(`ips[${i}].interface`, 'must be an interface index');
    return {
      address,
      ...(gateway !== undefined && { gateway }),
      ...(typeof iface === 'number' && { interface: iface }),
    };
  });
  const routes = arrayOf(raw, 'routes').map((o, i): CniRoute => {
    const dst = o.dst;
    if (typeof dst !== 'string') fail(`routes[${i}].dst`, 'must be a CIDR string');
    const gw = optionalString(o, 'gw', `routes[${i}]`);
    return { dst, ...(gw !== undefined && { gw }) };
  });
  const dns = isObject(raw.dns) ? raw.dns : {};
  return { interfaces, ips, routes, dns };
}
