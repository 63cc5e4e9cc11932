/**
 * The helm that e2e/helm/build.sh builds from the Go module proxy: found, run, never guessed.
 * A missing helm is an error naming how to get it (tests that need helm fail, they never skip).
 */
import { join } from 'node:path';
import { runChecked } from '../cluster/exec.js';
import { repoRoot, requireExecutables, resolveBuiltDir } from '../cluster/prereq.js';

/** The helm binary: in $WEFT_HELM_DIR, else in the directory e2e/helm/build.sh prints (instant when cached). */
export async function resolveHelm(): Promise<string> {
  const dir = await resolveBuiltDir('e2e/helm/build.sh', 'WEFT_HELM_DIR');
  requireExecutables(dir, ['helm'], 'run e2e/helm/build.sh (needs Go) or set WEFT_HELM_DIR');
  return join(dir, 'helm');
}

/** Runs helm with `args`; a non-zero exit throws with helm's stderr. */
export async function runHelm(args: readonly string[]): Promise<string> {
  const helm = await resolveHelm();
  // Helm's own config and cache stay out of $HOME: nothing here needs repositories or plugins.
  const home = join(repoRoot(), '.run', 'helm');
  return runChecked([helm, ...args], {
    env: {
      HELM_CONFIG_HOME: join(home, 'config'),
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_DATA_HOME: join(home, 'data'),
    },
    timeoutMs: 60_000,
  });
}
