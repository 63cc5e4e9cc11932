/** Command-line flags the benchmark programs share (pure). */
import { availableParallelism } from 'node:os';

/** `flag N`: a positive number, or `dflt` when the flag is absent. */
export function numberFlag(argv: readonly string[], flag: string, dflt: number): number {
  const i = argv.indexOf(flag);
  if (i < 0) return dflt;
  const v = Number(argv[i + 1]);
  if (!(v > 0)) throw new Error(`${flag} must be a positive number, got ${JSON.stringify(argv[i + 1])}`);
  return v;
}

/**
 * `--rtt-cpu N|none`: the CPU both round-trip ends are pinned to (undefined =
 * not pinned); default the last CPU. On a VM a wake-up on another CPU costs
 * ~100 µs and would drown the path's own cost.
 */
export function rttCpuFlag(argv: readonly string[], cpus = availableParallelism()): number | undefined {
  const i = argv.indexOf('--rtt-cpu');
  if (i < 0) return cpus - 1;
  const v = argv[i + 1];
  if (v === 'none') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n >= cpus)
    throw new Error(`--rtt-cpu must be none or a CPU number below ${cpus}, got ${JSON.stringify(v)}`);
  return n;
}

/**
 * The flags of the traffic benchmarks: `--quick` (1 repetition, 1 s runs, 1
 * round-trip round) or the full defaults given, each overridable by its flag.
 */
export function trafficFlags(
  argv: readonly string[],
  full: { readonly reps: number; readonly seconds: number; readonly rttRounds: number },
) {
  const quick = argv.includes('--quick');
  return {
    quick,
    reps: numberFlag(argv, '--reps', quick ? 1 : full.reps),
    seconds: numberFlag(argv, '--seconds', quick ? 1 : full.seconds),
    rttSeconds: numberFlag(argv, '--rtt-seconds', 1),
    rttRounds: numberFlag(argv, '--rtt-rounds', quick ? 1 : full.rttRounds),
    rttCpu: rttCpuFlag(argv),
  };
}
