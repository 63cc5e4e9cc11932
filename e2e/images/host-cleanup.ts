/**
 * Removing what a containerd instance leaves on the host when it is stopped or has crashed:
 * mounts below its directory, the processes and cgroups below a cgroup parent of its own.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../../common/backoff.js';
import { runCommand } from '../cluster/exec.js';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** Mount points in /proc/self/mountinfo text at or below `dir`, latest first (so stacked ones come off in order). */
export function mountsUnder(mountinfo: string, dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const points = mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8))))
    .filter((p) => p === dir || p.startsWith(prefix));
  return points.reverse();
}

/** Unmounts everything at or below `dir` (lazily when a plain umount is refused). */
export async function unmountUnder(dir: string): Promise<void> {
  const failed: string[] = [];
  for (const p of mountsUnder(readFileSync('/proc/self/mountinfo', 'utf8'), dir)) {
    const r = await runCommand(['umount', p]);
    if (r.code !== 0 && (await runCommand(['umount', '-l', p])).code !== 0) failed.push(p);
  }
  const left = mountsUnder(readFileSync('/proc/self/mountinfo', 'utf8'), dir);
  if (left.length > 0)
    throw new Error(`still mounted: ${left.join(', ')} (umount failed: ${failed.join(', ')})`);
}

/** `<hierarchy>/<parent>` in every cgroup hierarchy where it exists (v1 controllers and unified, or v2). */
export function cgroupDirs(parent: string): string[] {
  if (existsSync(join(CGROUP_ROOT, 'cgroup.controllers'))) {
    const d = join(CGROUP_ROOT, parent);
    return existsSync(d) ? [d] : [];
  }
  const out: string[] = [];
  for (const h of readdirSync(CGROUP_ROOT)) {
    const hierarchy = join(CGROUP_ROOT, h);
    if (lstatSync(hierarchy).isSymbolicLink()) continue; // cpu -> cpu,cpuacct
    const d = join(hierarchy, parent);
    if (existsSync(d)) out.push(d);
  }
  return out;
}

function subtree(dir: string): string[] {
  const dirs = [dir];
  for (const e of readdirSync(dir, { withFileTypes: true }))
    if (e.isDirectory()) dirs.push(...subtree(join(dir, e.name)));
  return dirs;
}

function pidsIn(dirs: readonly string[]): number[] {
  const pids = new Set<number>();
  for (const d of dirs) {
    let procs = '';
    try {
      procs = readFileSync(join(d, 'cgroup.procs'), 'utf8');
    } catch {
      continue;
    }
    for (const l of procs.split('\n')) if (/^\d+$/.test(l)) pids.add(Number(l));
  }
  return [...pids];
}

/** SIGKILLs every process in the cgroups below `parent` until none is left (or 5 s have passed). */
export async function killCgroupProcesses(parent: string): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const pids = pidsIn(cgroupDirs(parent).flatMap(subtree));
    if (pids.length === 0) return;
    if (Date.now() > deadline) throw new Error(`processes survive in cgroup ${parent}: ${pids.join(' ')}`);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await sleep(100);
  }
}

/** rmdir of a cgroup and everything below it, deepest first (cgroup dirs go with rmdir only). */
export function removeCgroupTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const d of subtree(dir).reverse()) rmdirSync(d);
}
