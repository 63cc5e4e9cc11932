/** The upstream e2e binary and ginkgo, from e2e/conformance/build.sh (cached; a cold build takes minutes). */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../cluster/prereq.js';
import { ConformanceError } from './selections.js';

export interface E2eBinaries {
  testBinary: string;
  ginkgo: string;
}

export const conformanceDir = (): string => join(repoRoot(), 'e2e', 'conformance');

/** Runs build.sh (its progress on our stderr) and returns the binaries in the directory it prints last. */
export function buildBinaries(): Promise<E2eBinaries> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(conformanceDir(), 'build.sh')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.on('error', (e) => reject(new ConformanceError('EBUILD', `cannot run build.sh: ${e.message}`)));
    child.on('close', (code) => {
      const dir = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || dir === '') reject(new ConformanceError('EBUILD', `build.sh exited ${code}`));
      else resolve({ testBinary: join(dir, 'e2e-network.test'), ginkgo: join(dir, 'ginkgo') });
    });
  });
}
