import { execFile } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { resolveBinDir } from '../../e2e/cluster/index.js';

/** Facts about the machine a benchmark ran on, recorded with every result. */
export interface MachineFacts {
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly kubernetes: string;
  readonly iperf3: string;
  readonly sockperf: string;
  readonly loadAvg: readonly number[];
}

function firstLine(cmd: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(cmd, [...args], { timeout: 10_000 }, (err, stdout, stderr) => {
      const text = `${stdout}\n${stderr}`.trim();
      resolve(
        err && text === '' ? `unavailable (${err.message.split('\n')[0]})` : (text.split('\n')[0] ?? ''),
      );
    });
  });
}

/** The Kubernetes version of the local cluster's kube-apiserver binary. */
async function kubernetesVersion(): Promise<string> {
  try {
    const dir = await resolveBinDir();
    return (await firstLine(join(dir, 'kube-apiserver'), ['--version'])).replace(/^Kubernetes\s+/, '');
  } catch (err) {
    return `unavailable (${(err as Error).message.split('\n')[0]})`;
  }
}

export async function collectMachineFacts(): Promise<MachineFacts> {
  const cpu = cpus();
  return {
    cores: cpu.length,
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    kubernetes: await kubernetesVersion(),
    iperf3: (await firstLine('iperf3', ['--version'])).replace(/\s*\(cJSON.*$/, ''),
    sockperf: await firstLine('sockperf', ['--version']),
    loadAvg: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
