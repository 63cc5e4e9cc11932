/**
 * One run of a selection against a real-node cluster of its own: up (containerd, kubelet,
 * kube-proxy per node), Weft by `kubectl apply -k` with the chosen backend, CoreDNS, zone
 * labels, the control plane's routes to the pod CIDRs (cluster-setup.ts); then ginkgo in the
 * control plane's network namespace (the test process reaches node and pod IPs as a runner on
 * a control-plane host does), the JUnit report, teardown (always), and docs/conformance.md.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../common/log.js';
import { runCommand } from '../cluster/exec.js';
import {
  type Cluster,
  CONTROL_PLANE_IP,
  CONTROL_PLANE_IP6,
  destroyCluster,
  SUBNET_A,
  SUBNET_A6,
  startCluster,
} from '../cluster/index.js';
import { clusterCidrs } from '../cluster/plan.js';
import { resolveNodeBinDir } from '../nodebin/bins.js';
import {
  installCoreDns,
  installWeft,
  WEFT_IMAGE_NAME,
  type WeftBackend,
  waitForCoreDns,
  waitForWeft,
  weftImageTag,
} from '../realnode/addons.js';
import { buildBinaries, conformanceDir, type E2eBinaries } from './binaries.js';
import { applyControlPlanePodRoutes, planZoneLabels } from './cluster-setup.js';
import { buildRunCommand, junitReportPath } from './command.js';
import { type JunitRow, parseJunitReport } from './junit.js';
import type { SpecsFile } from './list.js';
import { renderConformanceDoc } from './render.js';
import {
  ConformanceError,
  parseSelections,
  type ResolvedSelection,
  resolveSelection,
  type SelectionIpFamily,
} from './selections.js';

/** The cluster name of conformance runs (never one the test suite uses). */
export const CONFORMANCE_CLUSTER = 'cf';

export interface ConformanceRunOptions {
  selection: string;
  /** Parallel ginkgo processes. */
  nodes: number;
  backend: WeftBackend;
  /** Where the JUnit report and ginkgo.log go (emptied first). */
  reportDir: string;
  /** The Markdown page to write; undefined: none. */
  docPath?: string;
  clusterName?: string;
  /** Also copy ginkgo's output to this stream (the CLI passes stderr). */
  echo?: NodeJS.WritableStream;
  log: Logger;
}

export interface ConformanceResult {
  selection: ResolvedSelection;
  rows: JunitRow[];
  failed: JunitRow[];
  passed: number;
  skipped: number;
  ginkgoExitCode: number;
  durationSeconds: number;
  reportDir: string;
}

function loadSelection(name: string): { selection: ResolvedSelection; specs: SpecsFile } {
  const dir = conformanceDir();
  const selection = resolveSelection(
    parseSelections(JSON.parse(readFileSync(join(dir, 'selections.json'), 'utf8'))),
    name,
  );
  const specs = JSON.parse(readFileSync(join(dir, 'specs.json'), 'utf8')) as SpecsFile;
  if (specs.selections[name] === undefined) {
    throw new ConformanceError('ESPECS', `specs.json has no ${name}: run npm run conformance -- list`);
  }
  return { selection, specs };
}

/** Brings the cluster to what the suite expects; returns the cluster (caller stops it). */
async function prepareCluster(
  c: Cluster,
  backend: WeftBackend,
  ipFamily: SelectionIpFamily,
  log: Logger,
): Promise<void> {
  const podCidrs = await c.waitForPodCIDRs(180_000);
  const clusterCIDRs = ipFamily === 'ipv4' ? undefined : clusterCidrs(ipFamily);
  await installWeft(
    c,
    { name: WEFT_IMAGE_NAME, tag: weftImageTag() },
    { backend, ...(clusterCIDRs ? { clusterCIDRs } : {}) },
  );
  await installCoreDns(c);
  await waitForWeft(c, 300);
  await waitForCoreDns(c, 300);
  for (const args of planZoneLabels(c.nodes)) await c.kubectl(args);
  const v6 = ipFamily === 'ipv6';
  await applyControlPlanePodRoutes({
    controlPlaneNetns: c.controlPlaneNetns,
    controlPlaneIp: v6 ? CONTROL_PLANE_IP6 : CONTROL_PLANE_IP,
    controlPlaneSubnet: (v6 ? SUBNET_A6 : SUBNET_A).cidr,
    controlPlaneGateway: (v6 ? SUBNET_A6 : SUBNET_A).gateway,
    routerNetns: c.routerNetns,
    nodes: c.nodes,
    podCidrs,
  });
  log.info({ op: 'prepare', backend, ipFamily }, 'cluster ready for the e2e suite');
}

/** ginkgo in the control plane's network namespace; its output to ginkgo.log (and `echo`). */
function runGinkgo(
  argv: string[],
  c: Cluster,
  logFile: string,
  echo?: NodeJS.WritableStream,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(logFile);
    const child = spawn('nsenter', [`--net=/var/run/netns/${c.controlPlaneNetns}`, '--', ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // kubectl for the framework's `kubectl exec` probes (RunHostCmd) is the cluster's own.
      env: {
        ...process.env,
        PATH: `${c.binDir}:${process.env.PATH ?? ''}`,
        KUBECONFIG: c.adminKubeconfigInNode,
      },
    });
    for (const s of [child.stdout, child.stderr]) {
      s.on('data', (b: Buffer) => {
        out.write(b);
        echo?.write(b);
      });
    }
    child.on('error', (e) => reject(new ConformanceError('EGINKGO', `cannot run ginkgo: ${e.message}`)));
    child.on('close', (code) => out.end(() => resolve(code ?? 1)));
  });
}

async function versionOf(argv: string[], pattern: RegExp): Promise<string> {
  const r = await runCommand(argv).catch(() => undefined);
  return `${r?.stdout ?? ''}${r?.stderr ?? ''}`.match(pattern)?.[1] ?? 'unknown';
}

async function versions(
  bins: E2eBinaries,
  c: Cluster,
  backend: WeftBackend,
): Promise<Array<[string, string]>> {
  const nodeBin = await resolveNodeBinDir();
  return [
    [
      'Kubernetes (control plane, kubelet, kube-proxy nftables, e2e suite)',
      await versionOf([join(c.binDir, 'kubelet'), '--version'], /(v\d+\.\d+\.\d+)/),
    ],
    ['ginkgo', await versionOf([bins.ginkgo, 'version'], /Version (\S+)/)],
    ['Weft', `${weftImageTag()}, backend \`${backend}\``],
    ['containerd', await versionOf([join(nodeBin, 'containerd'), '--version'], /(v\d+\.\d+\.\d+)/)],
    ['CoreDNS', await versionOf([join(nodeBin, 'coredns'), '-version'], /CoreDNS-(\S+)/)],
  ];
}

function machine(): string {
  const cores = cpus();
  return `${cores.length} × ${cores[0]?.model.trim() ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}`;
}

const CLUSTER_KIND: Record<SelectionIpFamily, string> = {
  ipv4: '',
  dual: ', dual-stack (IPv4 and IPv6 Service and cluster CIDRs, node addresses of both families)',
  ipv6: ', IPv6-only (IPv6 Service and cluster CIDRs, node addresses, control plane; no IPv4 in the cluster)',
};

/** Runs the selection; the cluster is removed whatever happens. */
export async function runConformance(o: ConformanceRunOptions): Promise<ConformanceResult> {
  const { selection, specs } = loadSelection(o.selection);
  const bins = await buildBinaries();
  const name = o.clusterName ?? CONFORMANCE_CLUSTER;
  rmSync(o.reportDir, { recursive: true, force: true });
  mkdirSync(o.reportDir, { recursive: true });
  await destroyCluster(name);
  const started = new Date();
  const t0 = Date.now();
  let cluster: Cluster | undefined;
  let ginkgoExitCode = -1;
  let argv: string[] = [];
  let vers: Array<[string, string]> = [];
  let failedRun = true;
  try {
    const ipFamily = selection.ipFamily;
    cluster = await startCluster({ name, nodes: 3, subnets: 2, kubelet: true, ipFamily }, o.log);
    await prepareCluster(cluster, o.backend, ipFamily, o.log);
    vers = await versions(bins, cluster, o.backend);
    argv = buildRunCommand({
      ...bins,
      selection,
      nodes: o.nodes,
      kubeconfig: cluster.adminKubeconfigInNode,
      reportDir: o.reportDir,
      provider: 'local',
      // No SSH to nodes here: cluster/log-dump/log-dump.sh is not there to run. --num-nodes:
      // unset (-1), every spec that calls SkipUnlessNodeCountIsAtLeast(2) skips itself.
      extraE2eArgs: [
        `--kubectl-path=${join(cluster.binDir, 'kubectl')}`,
        '--disable-log-dump',
        `--num-nodes=${cluster.nodes.length}`,
      ],
    });
    o.log.info({ op: 'ginkgo', nodes: o.nodes }, 'running the e2e suite');
    ginkgoExitCode = await runGinkgo(argv, cluster, join(o.reportDir, 'ginkgo.log'), o.echo);
    failedRun = false;
  } finally {
    // Logs stay behind (<run dir>/logs) when the run broke or a spec failed.
    const keepLogs = failedRun || ginkgoExitCode !== 0;
    if (cluster) await cluster.stop({ keepLogs });
    else await destroyCluster(name, undefined, { keepLogs: true });
  }
  const durationSeconds = (Date.now() - t0) / 1000;
  const junit = junitReportPath(o.reportDir);
  if (!existsSync(junit)) {
    throw new ConformanceError(
      'EJUNIT',
      `ginkgo exited ${ginkgoExitCode} without ${junit}; see ${o.reportDir}/ginkgo.log`,
    );
  }
  const rows = parseJunitReport(readFileSync(junit, 'utf8'));
  const list = specs.selections[o.selection];
  if (o.docPath !== undefined && list !== undefined) {
    writeFileSync(
      o.docPath,
      renderConformanceDoc({
        date: started.toISOString(),
        selection,
        versions: vers,
        machine: machine(),
        cluster: `local real-node cluster${CLUSTER_KIND[selection.ipFamily]}: control plane + 3 nodes on 2 underlay subnets (containerd, kubelet, kube-proxy per node, ADR 11), Weft backend ${o.backend}, CoreDNS; ginkgo --nodes=${o.nodes}`,
        durationSeconds,
        command: argv,
        specs: list,
        rows,
      }),
    );
  }
  const specRows = rows.filter((r) => r.isSpec);
  return {
    selection,
    rows,
    failed: rows.filter((r) => r.state === 'failed'),
    passed: specRows.filter((r) => r.state === 'passed').length,
    skipped: specRows.filter((r) => r.state === 'skipped' && r.message !== undefined).length,
    ginkgoExitCode,
    durationSeconds,
    reportDir: o.reportDir,
  };
}
