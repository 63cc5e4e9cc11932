import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { WeftError } from '../../../common/errors.js';
import { writeFileAtomic } from './atomic-file.js';
import { type ConflistVersions, chooseConflistVersions } from './conflist-version.js';
import { probePluginVersions } from './plugin-version.js';
import { findPlugin, PORTMAP_NAME } from './portmap.js';
import { isSupportedVersion } from './versions.js';

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
   * cniVersion of the conflist, fixed (no `cniVersions`). Default: chosen from the
   * versions the chained `portmap` supports (chooseConflistVersions).
   */
  readonly cniVersion?: string;
  /**
   * The runtime's plugin path (CNI_PATH order): the first `portmap` found there is
   * the one the runtime chains, and the one asked for its versions. Default [binDir].
   */
  readonly pluginDirs?: readonly string[];
}

export interface InstallResult {
  readonly shimWritten: boolean;
  readonly conflistWritten: boolean;
  readonly cniVersion: string;
  readonly cniVersions: readonly string[] | undefined;
  /** The portmap asked, and what it answered; undefined with a fixed cniVersion. */
  readonly portmap: { readonly path: string; readonly supportedVersions: readonly string[] } | undefined;
}

/** Pure: the conflist, weft then portmap (hostPort). */
export function computeConflist(networkName: string, versions: ConflistVersions, socketPath: string): string {
  const conflist = {
    cniVersion: versions.cniVersion,
    ...(versions.cniVersions && { cniVersions: versions.cniVersions }),
    name: networkName,
    plugins: [
      { type: SHIM_NAME, socket: socketPath },
      { type: PORTMAP_NAME, capabilities: { portMappings: true } },
    ],
  };
  return `${JSON.stringify(conflist, null, 2)}\n`;
}

/** Asks the portmap the runtime will chain which versions it speaks, and picks the conflist's. */
async function negotiateVersions(
  dirs: readonly string[],
): Promise<{ versions: ConflistVersions; portmap: NonNullable<InstallResult['portmap']> }> {
  const path = await findPlugin(PORTMAP_NAME, dirs);
  if (!path) throw new WeftError('ENOPORTMAP', `no portmap plugin in ${dirs.join(', ')}`);
  const supportedVersions = await probePluginVersions(path);
  return { versions: chooseConflistVersions(supportedVersions), portmap: { path, supportedVersions } };
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
 * Writes nothing when the chained portmap is missing, cannot tell its versions,
 * or has none in common with Weft: every ADD would fail at the chain's second step.
 */
export async function installCniFiles(opts: InstallCniOptions): Promise<InstallResult> {
  const networkName = opts.networkName ?? 'weft';
  let versions: ConflistVersions;
  let portmap: InstallResult['portmap'];
  if (opts.cniVersion !== undefined) {
    if (!isSupportedVersion(opts.cniVersion))
      throw new Error(`cniVersion ${opts.cniVersion} is not supported by Weft`);
    versions = { cniVersion: opts.cniVersion, cniVersions: undefined };
  } else {
    ({ versions, portmap } = await negotiateVersions(opts.pluginDirs ?? [opts.binDir]));
  }
  await mkdir(opts.binDir, { recursive: true });
  await mkdir(opts.confDir, { recursive: true });
  const shimWritten = await writeIfChanged(
    join(opts.binDir, SHIM_NAME),
    await readFile(opts.shimSource),
    0o755,
  );
  const conflist = Buffer.from(computeConflist(networkName, versions, opts.socketPath));
  const conflistWritten = await writeIfChanged(join(opts.confDir, CONFLIST_NAME), conflist, 0o644);
  return { shimWritten, conflistWritten, ...versions, portmap };
}

/** Removes the conflist first (no new pods get Weft), then the shim. */
export async function uninstallCniFiles(opts: Pick<InstallCniOptions, 'binDir' | 'confDir'>): Promise<void> {
  await rm(join(opts.confDir, CONFLIST_NAME), { force: true });
  await rm(join(opts.binDir, SHIM_NAME), { force: true });
}
