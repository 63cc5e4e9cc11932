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
/** What e2e/controlplane/build.sh builds besides the control plane: for real nodes and the upstream e2e suite. */
export const NODE_K8S_BINARIES = ['kube-scheduler', 'kubelet', 'kube-proxy', 'agnhost'] as const;
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

/** Throws naming the first of `names` (paths relative to `dir`) that is not an executable; `how` says how to get it. */
export function requireExecutables(dir: string, names: readonly string[], how: string): void {
  for (const name of names) {
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
    } catch {
      throw new ClusterError('EMISSINGBINARIES', `binary ${p} is missing; ${how}`);
    }
  }
}

/** Throws naming the first Kubernetes binary (by default: the control plane's) missing from `binDir`. */
export function checkBinDir(binDir: string, binaries: readonly string[] = CONTROL_PLANE_BINARIES): void {
  requireExecutables(binDir, binaries, 'run e2e/controlplane/build.sh (needs Go) or set WEFT_K8S_BIN_DIR');
}

/**
 * The directory a build script prints on its last line: `explicit`, else $`envVar`, else what
 * `script` (relative to the repository) prints — instant when cached, a cold build otherwise.
 */
export async function resolveBuiltDir(script: string, envVar: string, explicit?: string): Promise<string> {
  const fromEnv = process.env[envVar];
  const dir = explicit ?? (fromEnv && fromEnv !== '' ? fromEnv : undefined);
  if (dir !== undefined) return dir;
  const r = await runCommand(['bash', join(repoRoot(), script)], { timeoutMs: 90 * 60_000 });
  if (r.code !== 0) {
    throw new ClusterError('EMISSINGBINARIES', `${script} failed (${r.code}): ${tail(r.stderr, 15)}`);
  }
  return r.stdout.trim().split('\n').pop() ?? '';
}

/**
 * The directory with the control-plane binaries: `explicit`, else $WEFT_K8S_BIN_DIR, else the
 * last line of e2e/controlplane/build.sh (instant when cached, a cold build otherwise).
 */
export async function resolveBinDir(explicit?: string): Promise<string> {
  const dir = await resolveBuiltDir('e2e/controlplane/build.sh', 'WEFT_K8S_BIN_DIR', explicit);
  checkBinDir(dir);
  return dir;
}

export function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
