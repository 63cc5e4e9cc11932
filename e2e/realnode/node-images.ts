import { resolveBuiltDir } from '../cluster/prereq.js';
import { ClusterError } from '../cluster/spec.js';
import {
  importNodeImages as importInto,
  type NodeImageArchive,
  readNodeImageArchives,
} from '../images/import.js';

/** The OCI archives every node imports (built and cached by e2e/images/build.sh). */
export async function resolveNodeImages(): Promise<NodeImageArchive[]> {
  const dir = await resolveBuiltDir('e2e/images/build.sh', 'WEFT_NODE_IMAGES_DIR');
  const archives = readNodeImageArchives(dir);
  if (archives.length === 0)
    throw new ClusterError('EMISSINGIMAGES', `no node image archives recorded in ${dir}`);
  return archives;
}

/** Imports the archives into one node's containerd, in the CRI namespace (packed: CRI unpacks on first use). */
export async function importNodeImages(
  ctr: string,
  socket: string,
  archives: readonly NodeImageArchive[],
): Promise<void> {
  await importInto({ ctr, address: socket }, archives);
}
