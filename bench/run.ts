/**
 * The benchmark suite: runs every benchmark as its own process (datapath
 * throughput/latency, CNI ADD/DEL latency, control-plane scale, gossip, agent
 * footprint), writes the raw results with machine facts as JSON and regenerates
 * docs/benchmarks.md with its SVG charts.
 *
 *   npm run bench                       full run (≈ 40 min on 2 cores)
 *   node dist/bench/run.js --quick      every benchmark at tiny sizes (proves they run; figures not judged)
 *   flags: --no-docs (do not touch docs/), --out FILE (results path), --only a,b (sections:
 *          datapath,cniLatency,agentScale,gossip,agentFootprint,policyDatapath,policyScale,
 *          wireguardDatapath,datapathIpv6), --from A.json,B.json --out C.json
 *          (run nothing: merge earlier results, each section from the last file where it completed)
 *   env WEFT_BENCH_ARGS_<SECTION> (e.g. WEFT_BENCH_ARGS_DATAPATH="--reps 3 --seconds 3") replaces a section's args.
 * Results: bench/results/<date>.json (full) or $TMPDIR/weft-bench-quick.json (quick) unless --out.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listNetns, NetnsSet } from '../agent/test/ns/netns-helpers.js';
import { destroyCluster } from '../e2e/cluster/index.js';
import { cleanupIpv6Variants } from './datapath-ipv6.js';
import { cleanupAllVariants } from './datapath-paths.js';
import { renderBarChartSvg } from './lib/charts.js';
import { type ChildResult, runBenchChild } from './lib/child.js';
import { collectMachineFacts } from './lib/machine.js';
import { type BenchResults, datapathCharts, renderReport, SECTIONS, type SectionName } from './lib/report.js';
import {
  benchNames,
  benchNetnsPrefixes,
  benchTag,
  pidAlive,
  recordRunDone,
  recordRunStarted,
  staleBenchTags,
  startedRuns,
} from './lib/run-tag.js';
import { cleanupPolicyVariants } from './policy-topology.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DIST = join(REPO, 'dist/bench');
const MIN = 60_000;

interface SectionPlan {
  readonly script: string;
  readonly args: readonly string[];
  readonly env?: Record<string, string>;
  readonly timeoutMs: number;
}

/** What each section runs, full or quick. */
export function planSections(quick: boolean): Record<SectionName, SectionPlan> {
  return {
    datapath: {
      script: 'datapath-net.js',
      args: quick
        ? ['--quick']
        : ['--reps', '3', '--seconds', '5', '--rtt-seconds', '1', '--rtt-rounds', '6'],
      timeoutMs: quick ? 3 * MIN : 18 * MIN,
    },
    cniLatency: {
      script: 'cni-latency.js',
      args: quick ? ['5', '5'] : ['200', '100'],
      timeoutMs: quick ? 2 * MIN : 6 * MIN,
    },
    agentScale: {
      script: 'agent-scale.js',
      args: quick ? ['20'] : ['1000', '5000'],
      env: { WEFT_BENCH_REPEAT: quick ? '1' : '3' },
      timeoutMs: quick ? 3 * MIN : 12 * MIN,
    },
    gossip: {
      script: 'gossip.js',
      args: quick
        ? ['--runs', '1', '--window', '2', '--warmup', '1', '5']
        : ['--runs', '3', '--window', '10', '--warmup', '5', '10', '100', '1000'],
      timeoutMs: quick ? 2 * MIN : 10 * MIN,
    },
    agentFootprint: {
      script: 'lib/agent-footprint.js',
      args: [quick ? '3' : '60'],
      timeoutMs: quick ? 2 * MIN : 4 * MIN,
    },
    policyDatapath: {
      script: 'policy-datapath.js',
      args: quick ? ['--quick'] : ['--reps', '10'],
      timeoutMs: quick ? 3 * MIN : 20 * MIN,
    },
    policyScale: {
      script: 'policy-scale.js',
      args: quick ? ['--quick'] : ['--pods', '10000', '--policies', '1000', '--changes', '40'],
      timeoutMs: quick ? 4 * MIN : 20 * MIN,
    },
    wireguardDatapath: {
      script: 'wireguard-datapath.js',
      args: quick ? ['--quick'] : ['--reps', '10'],
      timeoutMs: quick ? 4 * MIN : 20 * MIN,
    },
    datapathIpv6: {
      script: 'datapath-ipv6.js',
      args: quick ? ['--quick'] : ['--reps', '10', '--seconds', '5'],
      timeoutMs: quick ? 3 * MIN : 15 * MIN,
    },
  };
}

export function parseRunArgs(argv: readonly string[]) {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
    return v;
  };
  const known = new Set(['--quick', '--no-docs', '--out', '--only', '--from']);
  for (const a of argv) {
    if (a.startsWith('--') && !known.has(a))
      throw new Error(`unknown flag ${a} (known: ${[...known].join(' ')})`);
  }
  const only = value('--only')?.split(',');
  for (const s of only ?? []) {
    if (!(SECTIONS as readonly string[]).includes(s))
      throw new Error(`--only: unknown section ${s} (known: ${SECTIONS.join(',')})`);
  }
  return {
    quick: argv.includes('--quick'),
    docs: !argv.includes('--no-docs'),
    out: value('--out'),
    only: (only ?? [...SECTIONS]) as SectionName[],
    from: value('--from')?.split(','),
  };
}

/**
 * Removes what crashed or killed runs left (recorded as started, not done, and
 * their tag's process is gone): datapath namespaces, the CNI node's namespaces
 * and the local clusters. Runs still going and other people's clusters are left alone.
 */
async function sweepStaleRuns(): Promise<void> {
  for (const tag of staleBenchTags(await listNetns(), pidAlive, startedRuns())) {
    process.stderr.write(`== removing what an earlier benchmark run (tag ${tag}) left behind\n`);
    const n = benchNames(tag);
    await cleanupAllVariants(n.datapathPrefix);
    await cleanupPolicyVariants(n.datapathPrefix);
    await cleanupIpv6Variants(n.datapathPrefix);
    await new NetnsSet(`wtcni-${n.cniTag}`).cleanup();
    await destroyCluster(n.scaleCluster);
    await destroyCluster(n.footprintCluster);
    await destroyCluster(n.policyCluster);
    await destroyCluster(n.wireguardCluster);
  }
  for (const tag of startedRuns()) if (!pidAlive(Number.parseInt(tag, 36))) recordRunDone(tag);
}

async function writeDocs(res: BenchResults): Promise<void> {
  const chartDir = join(REPO, 'docs/benchmarks');
  mkdirSync(chartDir, { recursive: true });
  if (res.sections.datapath.ok) {
    const charts = datapathCharts(res.sections.datapath.result as Parameters<typeof datapathCharts>[0]);
    for (const [name, chart] of Object.entries(charts)) {
      writeFileSync(join(chartDir, `${name}.svg`), await renderBarChartSvg(chart));
    }
  }
  writeFileSync(join(REPO, 'docs/benchmarks.md'), renderReport(res, 'benchmarks'));
}

/**
 * Merges earlier results files (no benchmark runs): each section comes from the
 * last file in which it completed. For re-running some sections after a failure.
 */
export function mergeResults(files: readonly BenchResults[], resultsFile: string): BenchResults {
  const first = files[0];
  if (!first) throw new Error('--from needs at least one results file');
  const sections = {} as Record<SectionName, ChildResult>;
  for (const name of SECTIONS) {
    const done = files.filter((f) => f.sections[name]?.ok).at(-1);
    sections[name] = (done ?? first).sections[name] ?? {
      ok: false,
      durationS: 0,
      error: 'not in the merged results (written before this section existed)',
    };
  }
  return {
    ...first,
    command: files.map((f) => f.command).join(', then '),
    durationS: files.reduce((t, f) => t + f.durationS, 0),
    loadAvgAfter: files.at(-1)?.loadAvgAfter ?? first.loadAvgAfter,
    leftoverNamespaces: files.flatMap((f) => f.leftoverNamespaces),
    resultsFile,
    sections,
    runs: files.flatMap((f) => f.runs ?? [{ command: f.command, date: f.date }]),
  };
}

async function main(): Promise<void> {
  const args = parseRunArgs(process.argv.slice(2));
  if (args.from) {
    if (!args.out) throw new Error('--from needs --out for the merged results');
    const res = mergeResults(
      args.from.map((f) => JSON.parse(readFileSync(f, 'utf8')) as BenchResults),
      relative(REPO, resolve(args.out)),
    );
    writeFileSync(args.out, `${JSON.stringify(res, null, 2)}\n`);
    if (args.docs) await writeDocs(res);
    return;
  }
  const ctl = new AbortController();
  const onSignal = () => ctl.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const started = Date.now();
  const tag = benchTag();
  await sweepStaleRuns();
  recordRunStarted(tag);
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const machine = await collectMachineFacts();
  const plans = planSections(args.quick);
  const sections = {} as Record<SectionName, ChildResult>;
  const sectionArgs: Partial<Record<SectionName, string[]>> = {};
  for (const name of SECTIONS) {
    if (!args.only.includes(name) || ctl.signal.aborted) {
      sections[name] = {
        ok: false,
        durationS: 0,
        error: ctl.signal.aborted ? 'interrupted' : 'not selected (--only)',
      };
      continue;
    }
    const override = process.env[`WEFT_BENCH_ARGS_${name.toUpperCase()}`];
    const p =
      override === undefined ? plans[name] : { ...plans[name], args: override.split(' ').filter(Boolean) };
    sectionArgs[name] = [...p.args];
    process.stderr.write(`== ${name}: node dist/bench/${p.script} ${p.args.join(' ')}\n`);
    sections[name] = await runBenchChild(name, process.execPath, join(DIST, p.script), p.args, {
      timeoutMs: p.timeoutMs,
      signal: ctl.signal,
      env: { ...p.env, WEFT_BENCH_TAG: tag },
    });
    process.stderr.write(
      `== ${name}: ${sections[name].ok ? 'ok' : `FAILED: ${sections[name].error}`} (${sections[name].durationS} s)\n`,
    );
  }
  await cleanupAllVariants(benchNames(tag).datapathPrefix);
  await cleanupPolicyVariants(benchNames(tag).datapathPrefix);
  await cleanupIpv6Variants(benchNames(tag).datapathPrefix);
  const prefixes = benchNetnsPrefixes(tag);
  const leftovers = (await listNetns()).filter((n) => prefixes.some((p) => n.startsWith(p)));
  if (leftovers.length > 0)
    process.stderr.write(`== WARNING: namespaces left behind: ${leftovers.join(' ')}\n`);
  else recordRunDone(tag);
  const flags = [
    ...(args.quick ? ['--quick'] : []),
    ...(args.only.length < SECTIONS.length ? ['--only', args.only.join(',')] : []),
  ];
  const out =
    args.out ??
    (args.quick
      ? join(tmpdir(), 'weft-bench-quick.json')
      : join(REPO, 'bench/results', `${date.slice(0, 10)}.json`));
  const res: BenchResults = {
    date,
    command: `npm run bench${flags.length ? ` -- ${flags.join(' ')}` : ''}`,
    quick: args.quick,
    machine,
    loadAvgAfter: loadavg().map((x) => Math.round(x * 100) / 100),
    durationS: Math.round((Date.now() - started) / 1000),
    resultsFile: relative(REPO, out),
    sectionArgs,
    leftoverNamespaces: leftovers,
    sections,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(res, null, 2)}\n`);
  if (args.docs) await writeDocs(res);
  process.stdout.write(
    `${JSON.stringify({ results: out, durationS: res.durationS, ok: SECTIONS.filter((s) => sections[s].ok) })}\n`,
  );
  if (ctl.signal.aborted) process.exitCode = 130;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
