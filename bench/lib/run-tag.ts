/**
 * Names of everything a benchmark run creates (network namespaces, local
 * clusters) carry the run's tag, so two runs on one machine (a full run and
 * the quick test of a CI run) never touch each other's namespaces. The tag is
 * the runner's pid in base 36; the runner records it in RUNS_DIR while the run
 * goes on. A recorded tag whose process is gone marks leftovers of a crashed
 * run, which the next run removes.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TAG_RE = /^[a-z0-9]{1,5}$/;

/** The tag of this run: $WEFT_BENCH_TAG (set by bench/run.ts for its children) or this process's pid. */
export function benchTag(env: NodeJS.ProcessEnv = process.env, pid = process.pid): string {
  const tag = env.WEFT_BENCH_TAG ?? pid.toString(36);
  if (!TAG_RE.test(tag))
    throw new Error(`WEFT_BENCH_TAG must be 1-5 lowercase letters/digits, got ${JSON.stringify(tag)}`);
  return tag;
}

/** The names one run uses; each fits the length rules of NetnsSet (13) and cluster names (10). */
export function benchNames(tag: string) {
  return {
    /** Datapath variants: `<datapathPrefix>-<variant>-<suffix>`. */
    datapathPrefix: `wtbn${tag}`,
    /** CNI latency node: CniTestNode tag → `wtcni-<cniTag>-*`. */
    cniTag: `b${tag}`,
    /** Local clusters (namespaces `wc<name>-*`). */
    scaleCluster: `ag${tag}`,
    footprintCluster: `fp${tag}`,
    policyCluster: `np${tag}`,
    wireguardCluster: `wg${tag}`,
  };
}

/** Namespace prefixes of one run, for the "nothing left behind" check. */
export function benchNetnsPrefixes(tag: string): string[] {
  const n = benchNames(tag);
  return [
    `${n.datapathPrefix}-`,
    `wtcni-${n.cniTag}-`,
    `wc${n.scaleCluster}-`,
    `wc${n.footprintCluster}-`,
    `wc${n.policyCluster}-`,
    `wc${n.wireguardCluster}-`,
  ];
}

/**
 * Tags found in namespace names whose runner process no longer exists, i.e.
 * leftovers of a crashed or killed run. `alive(pid)` tells whether a pid runs.
 * Only tags in `started` count (runs a runner recorded and did not finish):
 * a name alone is ambiguous — e2e cluster `agwg` reads as scale cluster `ag` +
 * tag `wg` — and someone else's cluster must never be swept.
 */
export function staleBenchTags(
  netns: readonly string[],
  alive: (pid: number) => boolean,
  started: ReadonlySet<string>,
): string[] {
  // The prefixes of benchNetnsPrefixes with the tag as a capture group: one naming scheme.
  const placeholder = '{tag}';
  const alternatives = benchNetnsPrefixes(placeholder).map((p) =>
    p.replace(placeholder, `(${TAG_RE.source.slice(1, -1)})`),
  );
  const re = new RegExp(`^(?:${alternatives.join('|')})`);
  const tags = new Set<string>();
  for (const name of netns) {
    const tag = re
      .exec(name)
      ?.slice(1)
      .find((g) => g !== undefined);
    if (tag !== undefined && started.has(tag) && !alive(Number.parseInt(tag, 36))) tags.add(tag);
  }
  return [...tags].sort();
}

/** Where runners record the tags of runs under way: one empty file per tag. */
export const RUNS_DIR = join(tmpdir(), 'weft-bench-runs');

/** Records that the run `tag` started (its leftovers may be swept once its process is gone). */
export function recordRunStarted(tag: string, dir = RUNS_DIR): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, tag), '');
}

/** Forgets the run `tag` (it finished, or its leftovers were swept). */
export function recordRunDone(tag: string, dir = RUNS_DIR): void {
  rmSync(join(dir, tag), { force: true });
}

/** The tags of runs recorded as started and not done. */
export function startedRuns(dir = RUNS_DIR): Set<string> {
  return new Set(existsSync(dir) ? readdirSync(dir).filter((t) => TAG_RE.test(t)) : []);
}

/** True when a process with this pid exists (signal 0 probes without sending anything). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
