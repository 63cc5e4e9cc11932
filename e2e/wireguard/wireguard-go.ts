/**
 * The wireguard-go that e2e/wireguard/build.sh builds from the Go module proxy: found, never
 * guessed. Missing is an error naming how to get it (tests that need it fail, they never skip).
 */
import { join } from 'node:path';
import { requireExecutables, resolveBuiltDir } from '../cluster/prereq.js';

/** The wireguard-go binary: in $WEFT_WIREGUARD_DIR, else in the directory build.sh prints (instant when cached). */
export async function resolveWireguardGo(): Promise<string> {
  const dir = await resolveBuiltDir('e2e/wireguard/build.sh', 'WEFT_WIREGUARD_DIR');
  requireExecutables(
    dir,
    ['wireguard-go'],
    'run e2e/wireguard/build.sh (needs Go) or set WEFT_WIREGUARD_DIR',
  );
  return join(dir, 'wireguard-go');
}
