/**
 * CNI ADD/DEL latency: Weft (installed shim → agent in its own process) vs the
 * reference bridge + host-local plugins (/usr/lib/cni), on one node netns in the
 * same run, interleaved pod by pod so both see the same machine noise. Each
 * timing covers exec of the plugin binary by a runtime, as kubelet/containerd do.
 * Also measures the start-up cost of a Node process vs the shim (for ADR 0001).
 *
 * Then a burst: `parallel` pods ADDed at once (as a node does when a
 * Deployment lands), Weft and reference one after the other, then DELed at once:
 * wall time to the last answer, per-ADD p50/p99, distinct addresses checked.
 *
 *   node dist/bench/cni-latency.js [pods=200] [parallel=100]     → JSON on stdout
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CniTestNode, execFileP, REFERENCE_PLUGINS } from '../agent/test/ns/cni-fixture.js';
import { execPlugin, parsePluginAnswer } from '../agent/test/ns/cni-runtime.js';
import { benchNames, benchTag } from './lib/run-tag.js';

interface Stats {
  p50: number;
  p99: number;
  mean: number;
}

function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? Number.NaN;
  const round = (x: number) => Math.round(x * 100) / 100;
  return { p50: round(at(0.5)), p99: round(at(0.99)), mean: round(s.reduce((a, b) => a + b, 0) / s.length) };
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = process.hrtime.bigint();
  const out = await fn();
  return [Number(process.hrtime.bigint() - t0) / 1e6, out];
}

async function timeExec(
  file: string,
  args: string[],
  env: Record<string, string> = {},
  n = 30,
): Promise<Stats> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const [ms] = await timed(() =>
      execPlugin(file, { ...env }, JSON.stringify({ cniVersion: '1.0.0' })).then(() => 0),
    );
    samples.push(ms);
    void args;
  }
  return stats(samples);
}

async function main(): Promise<void> {
  const pods = Number(process.argv[2] ?? 200);
  const parallel = Number(process.argv[3] ?? 100);
  for (const [name, v] of [
    ['pods', pods],
    ['parallel', parallel],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
  }
  const node = await CniTestNode.create(benchNames(benchTag()).cniTag, { startServer: false });
  try {
    await node.startChildAgent();
    const refData = join(node.dir, 'host-local');
    await mkdir(refData, { recursive: true });
    const refConf = JSON.stringify({
      cniVersion: '1.0.0',
      name: 'wtref',
      type: 'bridge',
      bridge: 'wtref0',
      isGateway: true,
      hairpinMode: true,
      mtu: 1450,
      ipam: { type: 'host-local', ranges: [[{ subnet: '10.245.0.0/23' }]], dataDir: refData },
    });
    const weftConf = JSON.stringify({
      cniVersion: '1.0.0',
      name: 'weft',
      type: 'weft',
      socket: node.socketPath,
    });
    const weftBin = join(node.binDir, 'weft');
    const refBin = join(REFERENCE_PLUGINS, 'bridge');
    const cniPath = `${node.binDir}:${REFERENCE_PLUGINS}`;
    const run = async (bin: string, conf: string, command: string, id: string, netns: string) =>
      timed(async () =>
        parsePluginAnswer(
          bin,
          await execPlugin(
            bin,
            {
              CNI_COMMAND: command,
              CNI_CONTAINERID: id,
              CNI_NETNS: netns,
              CNI_IFNAME: 'eth0',
              CNI_PATH: cniPath,
            },
            conf,
            node.nsPath,
          ),
        ),
      );

    // Warm-up: one pod each (page cache, first bridge creation for the reference).
    for (const [bin, conf, tag] of [
      [weftBin, weftConf, 'w'],
      [refBin, refConf, 'r'],
    ] as const) {
      const ns = await node.createPod(`${tag}warm`);
      await run(bin, conf, 'ADD', `${tag}warm`, ns);
      await run(bin, conf, 'DEL', `${tag}warm`, ns);
      await node.deletePod(`${tag}warm`);
    }

    const add = { weft: [] as number[], ref: [] as number[] };
    const del = { weft: [] as number[], ref: [] as number[] };
    for (let i = 0; i < pods; i++) {
      const wns = await node.createPod(`w${i}`);
      const rns = await node.createPod(`r${i}`);
      const order = i % 2 === 0 ? (['weft', 'ref'] as const) : (['ref', 'weft'] as const);
      for (const who of order) {
        const [ms] =
          who === 'weft'
            ? await run(weftBin, weftConf, 'ADD', `w${i}`, wns)
            : await run(refBin, refConf, 'ADD', `r${i}`, rns);
        add[who].push(ms);
      }
    }
    for (let i = 0; i < pods; i++) {
      const order = i % 2 === 0 ? (['weft', 'ref'] as const) : (['ref', 'weft'] as const);
      for (const who of order) {
        const [ms] =
          who === 'weft'
            ? await run(weftBin, weftConf, 'DEL', `w${i}`, `/var/run/netns/${node.podName(`w${i}`)}`)
            : await run(refBin, refConf, 'DEL', `r${i}`, `/var/run/netns/${node.podName(`r${i}`)}`);
        del[who].push(ms);
      }
      await node.deletePod(`w${i}`);
      await node.deletePod(`r${i}`);
    }

    // Burst: every ADD started at once, then every DEL; Weft first, then the reference.
    const burst = async (who: 'weft' | 'ref') => {
      const [bin, conf, tag] = who === 'weft' ? [weftBin, weftConf, 'bw'] : [refBin, refConf, 'br'];
      const ids = Array.from({ length: parallel }, (_, i) => `${tag}${i}`);
      const netns = await Promise.all(ids.map((id) => node.createPod(id)));
      const t0 = process.hrtime.bigint();
      const adds = await Promise.all(ids.map((id, i) => run(bin, conf, 'ADD', id, netns[i] as string)));
      const addWallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const addresses = new Set(
        adds.map(([, r]) => (r as { ips?: Array<{ address: string }> }).ips?.[0]?.address),
      );
      if (addresses.size !== parallel || addresses.has(undefined))
        throw new Error(`${who}: ${parallel} parallel ADDs got ${addresses.size} distinct addresses`);
      const t1 = process.hrtime.bigint();
      const dels = await Promise.all(ids.map((id, i) => run(bin, conf, 'DEL', id, netns[i] as string)));
      const delWallMs = Number(process.hrtime.bigint() - t1) / 1e6;
      for (const id of ids) await node.deletePod(id);
      const round1 = (x: number) => Math.round(x * 10) / 10;
      return {
        addWallMs: round1(addWallMs),
        add: stats(adds.map(([ms]) => ms)),
        delWallMs: round1(delWallMs),
        del: stats(dels.map(([ms]) => ms)),
      };
    };
    const parallelAdds = { pods: parallel, weft: await burst('weft'), reference: await burst('ref') };

    const nodeBin = process.execPath;
    const startup = {
      nodeProcessMs: await timeExec(nodeBin, [], {}),
      shimVersionMs: await timeExec(weftBin, [], { CNI_COMMAND: 'VERSION' }),
      referenceBridgeVersionMs: await timeExec(refBin, [], { CNI_COMMAND: 'VERSION' }),
    };
    const w = { add: stats(add.weft), del: stats(del.weft) };
    const r = { add: stats(add.ref), del: stats(del.ref) };
    const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
    const ratios = {
      addP50: ratio(w.add.p50, r.add.p50),
      addP99: ratio(w.add.p99, r.add.p99),
      delP50: ratio(w.del.p50, r.del.p50),
    };
    const { stdout: kernel } = await execFileP('uname', ['-r']);
    process.stdout.write(
      `${JSON.stringify(
        {
          pods,
          unit: 'ms',
          kernel: kernel.trim(),
          weft: w,
          reference: r,
          ratios,
          targets: {
            addP50: ratios.addP50 <= 1.0,
            addP99: ratios.addP99 <= 1.5,
            delP50: ratios.delP50 <= 1.0,
          },
          parallel: parallelAdds,
          startup,
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await node.cleanup();
  }
}

await main();
