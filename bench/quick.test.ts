import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { listNetns } from '../agent/test/ns/netns-helpers.js';
import { METRICS, PATHS } from './datapath-net.js';
import { renderBarChartSvg } from './lib/charts.js';
import { FAMILIES, type Ipv6DatapathResult, V6_BACKENDS, V6_METRICS } from './lib/ipv6-results.js';
import { LEVELS, POLICY_BACKENDS, POLICY_METRICS, type PolicyDatapathResult } from './lib/policy-results.js';
import { type BenchResults, datapathCharts, renderReport, SECTIONS, type SectionName } from './lib/report.js';
import { isSpread } from './lib/report-format.js';
import { benchNetnsPrefixes, benchTag } from './lib/run-tag.js';
import { WG_BACKENDS, WG_METRICS, type WireguardDatapathResult } from './lib/wireguard-results.js';
import { mergeResults, parseRunArgs } from './run.js';

const RUN = fileURLToPath(new URL('./run.js', import.meta.url));
/** This test's pid as the run's tag: its names differ from any other run's on the machine. */
const TAG = benchTag({}, process.pid);

/** $WEFT_BENCH_QUICK_ONLY (e.g. `wireguardDatapath`) runs and checks only those sections. */
const ONLY = parseRunArgs(
  process.env.WEFT_BENCH_QUICK_ONLY ? ['--only', process.env.WEFT_BENCH_QUICK_ONLY] : [],
).only;

function runQuick(out: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [RUN, '--quick', '--no-docs', '--out', out, '--only', ONLY.join(',')],
      { timeout: 12 * 60_000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, WEFT_BENCH_TAG: TAG } },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr.slice(-3000)}`)) : resolve(stdout),
    );
  });
}

/** Every spread ({median,…}) found anywhere in `x`. */
function spreadsIn(x: unknown): { median: number }[] {
  if (isSpread(x)) return [x];
  if (x && typeof x === 'object') return Object.values(x).flatMap(spreadsIn);
  return [];
}

const positive = (x: unknown, what: string) =>
  assert.ok(typeof x === 'number' && Number.isFinite(x) && x > 0, `${what} is ${JSON.stringify(x)}`);

/** Per section: its figures are there and sane, and the report's heading for it. */
const CHECKS: Record<SectionName, { heading: string; check: (r: unknown) => void | Promise<void> }> = {
  datapath: {
    heading: '## Datapath',
    check: async (r) => {
      const dp = r as { paths: Record<string, Record<string, { median: number }>> };
      for (const p of PATHS)
        for (const m of METRICS) positive(dp.paths[p]?.[m]?.median, `datapath ${p} ${m}`);
      positive(spreadsIn(dp.paths['weft-vxlan']?.ratioToNodeNode)[0]?.median, 'vxlan ratio to node→node');
      // The hand-built paths carry flanneld's --ip-masq rules (4 postrouting + 2 forward).
      const facts = (r as { variantFacts: Record<string, { nftRules: number }> }).variantFacts;
      assert.equal(facts['hand-hostgw']?.nftRules, 6);
      assert.equal(facts['hand-vxlan']?.nftRules, 6);
      const charts = datapathCharts(r as Parameters<typeof datapathCharts>[0]);
      for (const c of Object.values(charts)) assert.match(await renderBarChartSvg(c), /^<svg /);
    },
  },
  cniLatency: {
    heading: '## CNI',
    check: (r) => {
      const cni = r as { weft: { add: { p50: number } }; reference: { add: { p50: number } } };
      positive(cni.weft.add.p50, 'CNI Weft ADD p50');
      positive(cni.reference.add.p50, 'CNI reference ADD p50');
    },
  },
  agentScale: { heading: '## Control-plane scale', check: (r) => finiteMedians('agentScale', r) },
  gossip: { heading: '## Gossip', check: (r) => finiteMedians('gossip', r) },
  agentFootprint: {
    heading: '## Agent footprint',
    check: (r) => {
      const fp = r as { rssMiB: { median: number }; cpuPercentOfOneCore: number };
      positive(fp.rssMiB.median, 'agent RSS');
      assert.ok(Number.isFinite(fp.cpuPercentOfOneCore));
    },
  },
  policyDatapath: {
    heading: '## NetworkPolicy on the datapath',
    check: (r) => {
      const pd = r as PolicyDatapathResult;
      for (const b of POLICY_BACKENDS) {
        for (const l of LEVELS) {
          for (const m of POLICY_METRICS)
            positive(pd.backends[b][`${l}`][m].median, `policy datapath ${b} ${l} ${m}`);
        }
        const k = pd.kernel[b]['1000'];
        assert.equal(k.n2.enforcedPolicies, 1000, `${b}: policies enforced on n2 at level 1000`);
        assert.ok(k.refused.ingressAtN2 && k.refused.egressAtN1, `${b}: denied probes at level 1000`);
      }
    },
  },
  policyScale: {
    heading: '## NetworkPolicy at scale',
    check: (r) => {
      const ps = r as {
        agents: { rssMiB: number; kernel: { chains: number; setElements: number } }[];
        changes: Record<string, { samples: number; timeouts: number; p99Ms: number }>;
      };
      assert.equal(ps.agents.length, 3);
      for (const a of ps.agents) {
        positive(a.rssMiB, 'policy agent RSS');
        positive(a.kernel.chains, 'policy verdict chains in the kernel');
      }
      for (const kind of ['labelAdd', 'labelRemove', 'policyAdd', 'policyDelete']) {
        const c = ps.changes[kind];
        assert.equal(c?.timeouts, 0, `policy ${kind}: a node never took the change`);
        positive(c?.samples, `policy ${kind} samples`);
        positive(c?.p99Ms, `policy ${kind} p99`);
      }
    },
  },
  wireguardDatapath: {
    heading: '## WireGuard on the datapath',
    check: (r) => {
      const wg = r as WireguardDatapathResult;
      for (const b of WG_BACKENDS)
        for (const m of WG_METRICS) positive(wg.backends[b][m].median, `wireguard datapath ${b} ${m}`);
      positive(wg.wireguardOverVxlan.tcp1Gbps.median, 'WireGuard ÷ VXLAN TCP ×1');
      assert.match(wg.implementation.kind, /^(kernel|userspace)$/);
      assert.equal(wg.encryption.wireguard.podInClear, 0, 'a pod address in clear on the underlay');
      positive(wg.encryption.vxlan.podInClear, 'the control capture shows the VXLAN pods');
      assert.equal(wg.mtu.wireguard.deviceMtu, wg.mtu.wireguard.underlay - 60);
      positive(wg.tunnelBytes.deviceTx, 'bytes through weft.wg');
    },
  },
  datapathIpv6: {
    heading: '## IPv6 on the datapath (dual-stack)',
    check: (r) => {
      const v6 = r as Ipv6DatapathResult;
      for (const b of V6_BACKENDS) {
        for (const f of FAMILIES)
          for (const m of V6_METRICS) positive(v6.backends[b][f][m].median, `dual-stack ${b} ${f} ${m}`);
        positive(v6.ipv6OverIpv4[b].tcp1Gbps.median, `${b} IPv6 ÷ IPv4 TCP ×1`);
        // IPv6's header is 20 bytes longer than IPv4's: the segment 20 bytes shorter.
        assert.equal((v6.mss[b].ipv4 as number) - (v6.mss[b].ipv6 as number), 20, `${b} MSS`);
      }
      assert.deepEqual(v6.pathChecks.hostgw.routeKind, { ipv4: 'direct', ipv6: 'direct' });
      assert.deepEqual(v6.pathChecks.vxlan.routeKind, { ipv4: 'vxlan', ipv6: 'vxlan' });
      // One IPv4 tunnel for both families: 50 bytes of outer headers either way.
      const enc = v6.pathChecks.vxlan.encapsulated ?? [];
      for (const f of FAMILIES)
        assert.ok(
          enc.some((e) => e.family === f && e.overhead === 50),
          `${f} in VXLAN`,
        );
      assert.ok(
        enc.every((e) => e.overhead === 50),
        JSON.stringify(enc),
      );
      assert.equal(v6.mtu.vxlan.vxlanDevice, v6.mtu.vxlan.underlay - 50);
      positive(v6.vxlanTxBytesDuringIpv6, 'weft.vxlan bytes during the IPv6 runs');
    },
  },
};

function finiteMedians(s: string, r: unknown): void {
  const medians = spreadsIn(r).map((x) => x.median);
  assert.ok(medians.length > 0 && medians.every(Number.isFinite), `${s}: ${JSON.stringify(medians)}`);
}

describe('benchmark suite, quick mode', { timeout: 13 * 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-quick-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('run flags: unknown flags and sections are rejected by name', () => {
    assert.deepEqual(parseRunArgs(['--quick', '--only', 'gossip,datapath']).only, ['gossip', 'datapath']);
    assert.throws(() => parseRunArgs(['--fast']), /unknown flag --fast/);
    assert.throws(() => parseRunArgs(['--only', 'datapth']), /unknown section datapth/);
    assert.throws(() => parseRunArgs(['--out']), /--out needs a value/);
    assert.deepEqual(parseRunArgs(['--from', 'a.json,b.json', '--out', 'c.json']).from, ['a.json', 'b.json']);
  });

  it('merging results takes each section from the last file where it completed', () => {
    const base = {
      date: 'd',
      quick: false,
      durationS: 10,
      loadAvgAfter: [1],
      leftoverNamespaces: [],
      resultsFile: 'x',
    };
    const ok = (v: number) => ({ ok: true, durationS: 1, result: { v } });
    const bad = { ok: false, durationS: 1, error: 'netns vanished' };
    const a = {
      ...base,
      command: 'npm run bench',
      machine: {} as BenchResults['machine'],
      sections: {
        datapath: bad,
        cniLatency: bad,
        agentScale: ok(1),
        gossip: ok(1),
        agentFootprint: ok(1),
        policyDatapath: ok(1),
        policyScale: ok(1),
        wireguardDatapath: ok(1),
        datapathIpv6: ok(1),
      },
    };
    const b = {
      ...a,
      command: 'npm run bench -- --only datapath',
      sections: { ...a.sections, datapath: ok(2), agentScale: bad },
    };
    const m = mergeResults([a, b], 'bench/results/m.json');
    assert.deepEqual(m.sections.datapath, ok(2));
    assert.deepEqual(m.sections.agentScale, ok(1));
    assert.deepEqual(m.sections.cniLatency, bad);
    assert.equal(m.command, 'npm run bench, then npm run bench -- --only datapath');
    assert.equal(m.durationS, 20);
  });

  it('runs the benchmarks, writes every section with figures and leaves no namespaces', async () => {
    const out = join(dir, 'quick.json');
    const stdout = await runQuick(out);
    assert.match(stdout, /"results"/);
    const res = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;
    for (const s of ONLY) assert.ok(res.sections[s].ok, `${s} failed: ${res.sections[s].error}`);
    assert.equal(res.machine.cores > 0, true);
    assert.deepEqual(res.leftoverNamespaces, []);
    assert.match(res.machine.kernel, /\d+\.\d+/);
    for (const s of ONLY) await CHECKS[s].check(res.sections[s].result);

    const md = renderReport(res, 'benchmarks');
    if (ONLY.length === SECTIONS.length) {
      assert.ok(md.includes('## Targets'), 'report lacks ## Targets');
      assert.ok(!md.includes('Did not complete'));
    }
    for (const s of ONLY) assert.ok(md.includes(CHECKS[s].heading), `report lacks ${CHECKS[s].heading}`);

    const prefixes = benchNetnsPrefixes(TAG);
    const mine = (await listNetns()).filter((n) => prefixes.some((p) => n.startsWith(p)));
    assert.deepEqual(mine, []);
  });
});
