import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runChecked } from '../cluster/exec.js';
import { resolveBuiltDir } from '../cluster/prereq.js';
import { ClusterError } from '../cluster/spec.js';

/** The OCI archives every node imports (built and cached by e2e/images/build.sh). */
export async function resolveNodeImages(): Promise<string[]> {
  const dir = await resolveBuiltDir('e2e/images/build.sh', 'WEFT_NODE_IMAGES_DIR');
  const archives = readdirSync(dir)
    .filter((f) => f.endsWith('.tar'))
    .map((f) => join(dir, f));
  if (archives.length === 0) throw new ClusterError('EMISSINGIMAGES', `no image archives (*.tar) in ${dir}`);
  return archives;
}

/** Imports archives into one containerd's k8s.io namespace (where the CRI plugin looks). */
export async function importNodeImages(
  ctr: string,
  socket: string,
  archives: readonly string[],
): Promise<void> {
  for (const a of archives) {
    await runChecked([ctr, '--address', socket, '-n', 'k8s.io', 'images', 'import', a], {
      timeoutMs: 180_000,
    });
  }
}
