import { existsSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../common/log.js';
import { silentLogger } from '../../common/log.js';
import { removeNodeCgroups } from '../realnode/cgroups.js';
import { releaseKubeletTunables } from '../realnode/kernel-tunables.js';
import { COMPONENTS } from './control-plane.js';
import { computeControlPlaneFiles } from './flags.js';
import { deleteNetns, listNetns, listNetnsPids } from './netns.js';
import { computeClusterPlan, netnsPrefix } from './plan.js';
import { killNetnsProcesses, type ProcessRecord, stopRecordedProcess } from './processes.js';
import { parseClusterSpec } from './spec.js';
import { readClusterState } from './state.js';

export interface TeardownOptions {
  /** Keep `<runDir>/logs` (everything else, keys included, is removed). */
  keepLogs?: boolean;
  log?: Logger;
}

/**
 * Removes everything cluster `name` made, from its state file when there is one and by
 * its namespace prefix otherwise: recorded processes (by process group, pid reuse
 * checked), every process left in its namespaces, the namespaces (which takes their
 * devices with them), and the run dir. Safe to call any number of times.
 */
export async function destroyCluster(
  name: string,
  runRoot?: string,
  opts: TeardownOptions = {},
): Promise<void> {
  const spec = parseClusterSpec(runRoot === undefined ? { name } : { name, runRoot });
  const plan = computeClusterPlan(spec);
  const files = computeControlPlaneFiles(plan.runDir);
  const log = opts.log ?? silentLogger();
  let state: ReturnType<typeof readClusterState>;
  try {
    state = readClusterState(files.stateFile);
  } catch (err) {
    log.warn({ err }, 'unreadable state file; tearing down by namespace prefix');
  }
  // Node processes first (agents, in parallel), then the control plane one by one in reverse
  // start order, each process group given 5 s to exit before SIGKILL.
  // The API server hangs on shutdown once etcd is gone, hence reverse start order for those.
  const procs = [...(state?.processes ?? [])].reverse();
  const isControlPlane = (p: ProcessRecord) => (COMPONENTS as readonly string[]).includes(p.id);
  await Promise.all(
    procs.filter((p) => !isControlPlane(p)).map((p) => stopRecordedProcess(p, 'SIGTERM', 5000)),
  );
  for (const p of procs.filter(isControlPlane)) await stopRecordedProcess(p, 'SIGTERM', 5000);
  const prefix = netnsPrefix(name);
  const present = (await listNetns()).filter((ns) => ns.startsWith(prefix));
  const namespaces = [...new Set([...(state?.namespaces ?? []), ...present])].filter((ns) =>
    ns.startsWith(prefix),
  );
  // Real nodes: their pods (in the kubelets' cgroup roots), then whatever is left in each
  // node's network namespace (containerd, shims, the holders) — which ends the nodes' mount
  // namespaces and every mount in them —, then the cgroups again for late leftovers.
  await removeNodeCgroups(name);
  for (const ns of namespaces) await killNetnsProcesses(ns, listNetnsPids);
  await removeNodeCgroups(name);
  if (state?.kernelTunables) releaseKubeletTunables(name);
  for (const ns of namespaces.reverse()) await deleteNetns(ns);
  removeRunDir(plan.runDir, opts.keepLogs === true, files.logDir);
  removeIfEmpty(spec.runRoot);
  log.info(
    { op: 'destroy', cluster: name, namespaces: namespaces.length, processes: procs.length },
    'cluster removed',
  );
}

function removeRunDir(runDir: string, keepLogs: boolean, logDir: string): void {
  if (!existsSync(runDir)) return;
  if (!keepLogs) {
    rmSync(runDir, { recursive: true, force: true });
    return;
  }
  for (const entry of readdirSync(runDir)) {
    const p = join(runDir, entry);
    if (p !== logDir) rmSync(p, { recursive: true, force: true });
  }
}

function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    /* other clusters' run dirs inside, or gone */
  }
}
