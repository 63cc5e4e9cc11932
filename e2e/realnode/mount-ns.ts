import { readdirSync, readlinkSync } from 'node:fs';
import { sleep } from '../../common/backoff.js';

/** The mount namespace of `pid` as the kernel names it ("mnt:[4026532…]"), or undefined when it is gone. */
export function mountNsOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return undefined;
  }
}

/** Pids of every process in mount namespace `ns`. */
export function pidsInMountNs(ns: string): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    const pid = Number(e);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) continue;
    if (mountNsOf(pid) === ns) pids.push(pid);
  }
  return pids;
}

/**
 * Kills every process left in a node's mount namespace (containerd, its shims, the holder),
 * which makes the namespace — and every mount made in it — go away. Idempotent.
 */
export async function killMountNs(ns: string): Promise<void> {
  if (ns === mountNsOf(process.pid) || ns === mountNsOf(1)) {
    throw new Error(`refusing to kill the machine's own mount namespace ${ns}`);
  }
  for (let round = 0; round < 40; round++) {
    const pids = pidsInMountNs(ns);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, round < 2 ? 'SIGTERM' : 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await sleep(round < 2 ? 500 : 100);
  }
}
