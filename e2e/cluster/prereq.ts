import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HostToolError, requireHostTools } from '../../scripts/host-tools.js';
import { runCommand } from './exec.js';
import { ClusterError } from './spec.js';

export const CONTROL_PLANE_BINARIES = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kubectl',
] as const;
export const REQUIRED_TOOLS = ['ip', 'nsenter', 'openssl', 'sysctl'] as const;

/** The repository root, found from this compiled file (dist/e2e/cluster/*.js) or the source (e2e/cluster/*.ts). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'e2e', 'controlplane', 'build.sh'))) return dir;
    dir = resolve(dir, '..');
  }
  throw new ClusterError(
    'EPREREQ',
    'cannot find the repository root (e2e/controlplane/build.sh) above this module',
  );
}

/** Root and the host tools the harness runs (scripts/host-tools.txt): everything besides the binaries. */
export function checkHostPrerequisites(): void {
  if (process.getuid?.() !== 0) {
    throw new ClusterError('ENOTROOT', 'the local cluster creates network namespaces and must run as root');
  }
  try {
    requireHostTools(REQUIRED_TOOLS);
  } catch (err: unknown) {
    if (err instanceof HostToolError) throw new ClusterError(err.code, err.message, { cause: err });
    throw err;
  }
}

/** Throws naming the first control-plane binary missing from `binDir`. */
export function checkBinDir(binDir: string): void {
  for (const b of CONTROL_PLANE_BINARIES) {
    const p = join(binDir, b);
    try {
      accessSync(p, constants.X_OK);
    } catch {
      throw new ClusterError(
        'EMISSINGBINARIES',
        `control-plane binary ${p} is missing; run e2e/controlplane/build.sh (needs Go) or set WEFT_K8S_BIN_DIR`,
      );
    }
  }
}

/**
 * The directory with the control-plane binaries: `explicit`, else $WEFT_K8S_BIN_DIR, else the
 * last line of e2e/controlplane/build.sh (instant when cached, a cold build otherwise).
 */
export async function resolveBinDir(explicit?: string): Promise<string> {
  const fromEnv = process.env.WEFT_K8S_BIN_DIR;
  let dir = explicit ?? (fromEnv && fromEnv !== '' ? fromEnv : undefined);
  if (dir === undefined) {
    const script = join(repoRoot(), 'e2e', 'controlplane', 'build.sh');
    const r = await runCommand(['bash', script], { timeoutMs: 90 * 60_000 });
    if (r.code !== 0) {
      throw new ClusterError(
        'EMISSINGBINARIES',
        `e2e/controlplane/build.sh failed (${r.code}): ${tail(r.stderr, 15)}`,
      );
    }
    dir = r.stdout.trim().split('\n').pop() ?? '';
  }
  checkBinDir(dir);
  return dir;
}

export function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
