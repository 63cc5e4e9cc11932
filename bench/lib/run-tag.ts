/**
 * Names of everything a benchmark run creates (network namespaces, local
 * clusters) carry the run's tag, so two runs on one machine (a full run and
 * the quick test of a CI run) never touch each other's namespaces. The tag is
 * the runner's pid in base 36: a tag whose process is gone marks leftovers of
 * a crashed run, which the next run removes.
 */

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
  ];
}

/**
 * Tags found in namespace names whose runner process no longer exists, i.e.
 * leftovers of a crashed or killed run. `alive(pid)` tells whether a pid runs.
 */
export function staleBenchTags(netns: readonly string[], alive: (pid: number) => boolean): string[] {
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
    if (tag !== undefined && !alive(Number.parseInt(tag, 36))) tags.add(tag);
  }
  return [...tags].sort();
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
