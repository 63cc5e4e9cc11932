import { execFile } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeFileAtomic } from './atomic-file.js';
import {
  compareVersions,
  isSupportedVersion,
  LATEST_CNI_VERSION,
  SUPPORTED_CNI_VERSIONS,
} from './versions.js';

const execFileP = promisify(execFile);

export const CONFLIST_NAME = '10-weft.conflist';
export const SHIM_NAME = 'weft';

export interface InstallCniOptions {
  /** CNI bin dir (/opt/cni/bin); the shim is written to `<binDir>/weft`. */
  readonly binDir: string;
  /** CNI conf dir (/etc/cni/net.d); the conflist is written to `<confDir>/10-weft.conflist`. */
  readonly confDir: string;
  /** The built shim binary to install (in the image: /usr/local/lib/weft/weft-cni-shim or similar). */
  readonly shimSource: string;
  /** The agent's CNI socket, written into the weft plugin's config. */
  readonly socketPath: string;
  /** Network name in the conflist (and IPAM state file name); default "weft". */
  readonly networkName?: string;
  /**
   * cniVersion of the conflist. Default: the newest version that both Weft and the
   * `portmap` found in binDir support (1.1.0 when portmap answers nothing usable).
   */
  readonly cniVersion?: string;
  /** Where to look for `portmap` when probing its versions; default [binDir]. */
  readonly pluginDirs?: readonly string[];
}

export interface InstallResult {
  readonly shimWritten: boolean;
  readonly conflistWritten: boolean;
  readonly cniVersion: string;
}

/** Pure: the conflist, weft then portmap (hostPort). */
export function computeConflist(networkName: string, cniVersion: string, socketPath: string): string {
  const conflist = {
    cniVersion,
    name: networkName,
    plugins: [
      { type: SHIM_NAME, socket: socketPath },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
  return `${JSON.stringify(conflist, null, 2)}\n`;
}

/** Pure: the newest version in both lists. */
export function chooseCniVersion(pluginVersions: readonly string[]): string {
  const common = SUPPORTED_CNI_VERSIONS.filter((v) => pluginVersions.includes(v));
  return common.sort(compareVersions).at(-1) ?? LATEST_CNI_VERSION;
}

/** Asks `<binDir>/portmap` which versions it speaks; [] when it cannot be run. */
export async function probePluginVersions(binary: string): Promise<string[]> {
  try {
    const child = execFileP(binary, [], { env: { CNI_COMMAND: 'VERSION' }, timeout: 5000 });
    child.child.stdin?.on('error', () => {}); // a plugin that exits without reading: EPIPE
    child.child.stdin?.end(JSON.stringify({ cniVersion: LATEST_CNI_VERSION }));
    const { stdout } = await child;
    const v = (JSON.parse(stdout) as { supportedVersions?: unknown }).supportedVersions;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

async function writeIfChanged(path: string, data: Buffer, mode: number): Promise<boolean> {
  const current = await readFile(path).catch(() => undefined);
  if (current?.equals(data)) return false;
  await writeFileAtomic(path, data, mode);
  return true;
}

/**
 * Installs the shim and the conflist atomically, each only when its bytes
 * changed, the conflist last (call once the CNI server can serve ADD: the
 * runtime considers the node's network ready as soon as the conflist appears).
 */
export async function installCniFiles(opts: InstallCniOptions): Promise<InstallResult> {
  const networkName = opts.networkName ?? 'weft';
  let cniVersion = opts.cniVersion;
  if (cniVersion === undefined) {
    let versions: string[] = [];
    for (const dir of opts.pluginDirs ?? [opts.binDir]) {
      versions = await probePluginVersions(join(dir, 'portmap'));
      if (versions.length > 0) break;
    }
    cniVersion = chooseCniVersion(versions);
  }
  if (!isSupportedVersion(cniVersion)) throw new Error(`cniVersion ${cniVersion} is not supported by Weft`);
  await mkdir(opts.binDir, { recursive: true });
  await mkdir(opts.confDir, { recursive: true });
  const shimWritten = await writeIfChanged(
    join(opts.binDir, SHIM_NAME),
    await readFile(opts.shimSource),
    0o755,
  );
  const conflist = Buffer.from(computeConflist(networkName, cniVersion, opts.socketPath));
  const conflistWritten = await writeIfChanged(join(opts.confDir, CONFLIST_NAME), conflist, 0o644);
  return { shimWritten, conflistWritten, cniVersion };
}

/** Removes the conflist first (no new pods get Weft), then the shim. */
export async function uninstallCniFiles(opts: Pick<InstallCniOptions, 'binDir' | 'confDir'>): Promise<void> {
  await rm(join(opts.confDir, CONFLIST_NAME), { force: true });
  await rm(join(opts.binDir, SHIM_NAME), { force: true });
}
