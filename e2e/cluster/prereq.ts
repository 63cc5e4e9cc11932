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

/** Throws naming the first of `binaries` missing from `binDir`, and how to get it. */
export function checkBinDir(
  binDir: string,
  binaries: readonly string[] = CONTROL_PLANE_BINARIES,
  how = 'run e2e/controlplane/build.sh (needs Go) or set WEFT_K8S_BIN_DIR',
): void {
  for (const b of binaries) {
    const p = join(binDir, b);
    try {
      accessSync(p, constants.X_OK);
    } catch {
      throw new ClusterError('EMISSINGBINARIES', `binary ${p} is missing; ${how}`);
    }
  }
}

/**
 * A directory of built binaries: `explicit`, else $`envVar`, else the last line printed by
 * `script` (a build script of this repository that caches by version: instant when cached,
 * a cold build otherwise). Checks that every one of `binaries` is there.
 */
export async function resolveBuildDir(opts: {
  explicit?: string | undefined;
  envVar?: string;
  script?: string;
  binaries: readonly string[];
}): Promise<string> {
  const fromEnv = opts.envVar ? process.env[opts.envVar] : undefined;
  let dir = opts.explicit ?? (fromEnv && fromEnv !== '' ? fromEnv : undefined);
  const script = opts.script ?? join('e2e', 'controlplane', 'build.sh');
  if (dir === undefined) {
    const r = await runCommand(['bash', join(repoRoot(), script)], { timeoutMs: 90 * 60_000 });
    if (r.code !== 0) {
      throw new ClusterError('EMISSINGBINARIES', `${script} failed (${r.code}): ${tail(r.stderr, 15)}`);
    }
    dir = r.stdout.trim().split('\n').pop() ?? '';
  }
  checkBinDir(dir, opts.binaries, `run ${script}${opts.envVar ? ` or set ${opts.envVar}` : ''}`);
  return dir;
}

/**
 * The directory with the control-plane binaries: `explicit`, else $WEFT_K8S_BIN_DIR, else the
 * last line of e2e/controlplane/build.sh (instant when cached, a cold build otherwise).
 */
export function resolveBinDir(explicit?: string): Promise<string> {
  return resolveBuildDir({ explicit, envVar: 'WEFT_K8S_BIN_DIR', binaries: CONTROL_PLANE_BINARIES });
}

export function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
