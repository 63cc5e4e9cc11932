import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { requireExecutables, resolveBuiltDir } from '../cluster/prereq.js';

/** What e2e/nodebin/build.sh puts in its directory. */
export const NODE_BINARIES = ['containerd', 'containerd-shim-runc-v2', 'ctr', 'crictl', 'coredns'] as const;
/** The reference CNI plugins, in the `cni/` folder of that directory (a CNI bin dir of their own). */
export const CNI_PLUGINS = ['portmap', 'loopback', 'bridge', 'host-local'] as const;
export const CNI_DIR = 'cni';

/** The CNI plugins a node has in its CNI bin dir before any network plugin arrives (as a node image or kubeadm's kubernetes-cni would). */
export const NODE_CNI_PLUGINS = ['loopback', 'portmap'] as const;

/** Copies the node's own CNI plugins (current releases: CNI 1.1.0) into a node's CNI bin dir. */
export function installNodeCniPlugins(nodeBinDir: string, cniBinDir: string): void {
  mkdirSync(cniBinDir, { recursive: true });
  for (const p of NODE_CNI_PLUGINS) copyFileSync(join(nodeBinDir, CNI_DIR, p), join(cniBinDir, p));
}

/** Throws naming the first node binary or CNI plugin missing from `dir`. */
export function checkNodeBinDir(dir: string): void {
  requireExecutables(
    dir,
    [...NODE_BINARIES, ...CNI_PLUGINS.map((p) => join(CNI_DIR, p))],
    'run e2e/nodebin/build.sh (needs Go) or set WEFT_NODE_BIN_DIR',
  );
}

/**
 * The directory with containerd, crictl, CoreDNS and the CNI plugins: `explicit`, else
 * $WEFT_NODE_BIN_DIR, else the last line of e2e/nodebin/build.sh (instant when cached).
 */
export async function resolveNodeBinDir(explicit?: string): Promise<string> {
  const dir = await resolveBuiltDir('e2e/nodebin/build.sh', 'WEFT_NODE_BIN_DIR', explicit);
  checkNodeBinDir(dir);
  return dir;
}
