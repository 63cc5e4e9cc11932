import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../../common/backoff.js';

/** Mount points of every cgroup hierarchy (v1 controllers and the v2 unified one), from /proc/mounts text (pure). */
export function parseCgroupMounts(mounts: string): string[] {
  return mounts
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[2] === 'cgroup' || f[2] === 'cgroup2')
    .map((f) => (f[1] ?? '').replace(/\\040/g, ' '))
    .filter((p) => p !== '');
}

/**
 * Creates a kubelet's cgroup root in every hierarchy (kubelet refuses a root that does not
 * exist). A v1 cpuset cgroup takes no task until its cpus and mems are set: copied from the
 * hierarchy's top.
 */
export function ensureCgroupRoot(root: string, mounts = readFileSync('/proc/mounts', 'utf8')): void {
  for (const h of parseCgroupMounts(mounts)) {
    const dir = join(h, root);
    mkdirSync(dir, { recursive: true });
    for (const f of ['cpuset.cpus', 'cpuset.mems']) {
      const own = join(dir, f);
      if (!existsSync(own)) continue;
      if (readFileSync(own, 'utf8').trim() === '') writeFileSync(own, readFileSync(join(h, f), 'utf8'));
    }
  }
}

/**
 * Removes the cgroup roots of every real node of cluster `name` (`/weft-<name>-node<i>`,
 * found by name in each hierarchy, so it works without a state file).
 */
export async function removeNodeCgroups(
  name: string,
  mounts = readFileSync('/proc/mounts', 'utf8'),
): Promise<void> {
  const prefix = `weft-${name}-node`;
  const roots = new Set<string>();
  for (const h of parseCgroupMounts(mounts)) {
    let entries: string[] = [];
    try {
      entries = readdirSync(h);
    } catch {
      continue;
    }
    for (const e of entries)
      if (e.startsWith(prefix) && /^\d+$/.test(e.slice(prefix.length))) roots.add(`/${e}`);
  }
  for (const r of roots) await removeCgroupTree(r, mounts);
}

/** Every directory of `root` in each hierarchy, deepest first. */
function cgroupDirs(hierarchies: readonly string[], root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e);
      try {
        if (statSync(p).isDirectory()) walk(p);
      } catch {
        /* gone meanwhile */
      }
    }
    out.push(dir);
  };
  for (const h of hierarchies) {
    const top = join(h, root);
    if (existsSync(top)) walk(top);
  }
  return out;
}

function pidsIn(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8')
      .split('\n')
      .map(Number)
      .filter((n) => Number.isInteger(n) && n > 0);
  } catch {
    return [];
  }
}

/**
 * Kills every process in the cgroup subtree `root` (e.g. a node's kubelet cgroupRoot, which
 * holds all its pods) in every hierarchy, then removes the subtree. Idempotent.
 */
export async function removeCgroupTree(
  root: string,
  mounts = readFileSync('/proc/mounts', 'utf8'),
): Promise<void> {
  const hierarchies = parseCgroupMounts(mounts);
  for (let round = 0; round < 50; round++) {
    const dirs = cgroupDirs(hierarchies, root);
    if (dirs.length === 0) return;
    let alive = 0;
    for (const d of dirs) {
      for (const pid of pidsIn(d)) {
        alive++;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    for (const d of dirs) {
      try {
        rmdirSync(d);
      } catch {
        /* busy until its processes are reaped; next round */
      }
    }
    if (alive === 0 && cgroupDirs(hierarchies, root).length === 0) return;
    await sleep(100);
  }
}
