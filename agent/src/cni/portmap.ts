import { access, constants, mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';

/** Where the distribution's CNI plugins usually live; searched in order for `portmap`. */
export const PORTMAP_SOURCE_DIRS: readonly string[] = ['/usr/lib/cni', '/opt/cni/bin'];
export const PORTMAP_NAME = 'portmap';

export type PortmapOutcome =
  | { readonly action: 'present' }
  | { readonly action: 'copied'; readonly from: string }
  | { readonly action: 'missing'; readonly searched: readonly string[] };

const isExecutable = (path: string) =>
  access(path, constants.X_OK).then(
    () => true,
    () => false,
  );

/** The first executable `name` along `dirs`, as a runtime searches CNI_PATH; undefined when none. */
export async function findPlugin(name: string, dirs: readonly string[]): Promise<string | undefined> {
  for (const dir of dirs) if (await isExecutable(join(dir, name))) return join(dir, name);
  return undefined;
}

/**
 * Makes sure the conflist's second plugin exists: when `<binDir>/portmap` is absent,
 * copies it (atomically, mode 0755) from the first source directory other than
 * binDir that has one. A portmap already in binDir is the node's own and is never
 * replaced, whatever its version.
 */
export async function ensurePortmap(
  binDir: string,
  sourceDirs: readonly string[] = PORTMAP_SOURCE_DIRS,
): Promise<PortmapOutcome> {
  const target = join(binDir, PORTMAP_NAME);
  if (await isExecutable(target)) return { action: 'present' };
  const searched = sourceDirs.filter((dir) => resolve(dir) !== resolve(binDir));
  for (const dir of searched) {
    const from = join(dir, PORTMAP_NAME);
    if (!(await isExecutable(from))) continue;
    await mkdir(binDir, { recursive: true });
    await writeFileAtomic(target, await readFile(from), 0o755);
    return { action: 'copied', from };
  }
  return { action: 'missing', searched };
}
