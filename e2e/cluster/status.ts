import { existsSync } from 'node:fs';
import { apiRequest } from './api-client.js';
import { computeControlPlaneFiles } from './flags.js';
import { listNetns } from './netns.js';
import { readAdminEndpoint } from './pki.js';
import { computeClusterPlan } from './plan.js';
import { isRecordAlive } from './processes.js';
import { parseClusterSpec } from './spec.js';
import { readClusterState } from './state.js';

export interface ClusterStatus {
  name: string;
  phase: 'absent' | 'starting' | 'running' | 'failed' | 'leftovers';
  runDir: string;
  adminKubeconfig?: string;
  apiReady: boolean;
  processes: Array<{ id: string; pid: number; alive: boolean; logFile: string }>;
  namespaces: Array<{ name: string; present: boolean }>;
  nodes: Array<{ name: string; ip: string; netns: string; podCIDRs: string[] }>;
}

/** What is running of cluster `name`, read from its state file, /proc, `ip netns` and the API. */
export async function readClusterStatus(name: string, runRoot?: string): Promise<ClusterStatus> {
  const spec = parseClusterSpec(runRoot === undefined ? { name } : { name, runRoot });
  const plan = computeClusterPlan(spec);
  const files = computeControlPlaneFiles(plan.runDir);
  const state = readClusterState(files.stateFile);
  const present = new Set((await listNetns()).filter((ns) => ns.startsWith(plan.nsPrefix)));
  const status: ClusterStatus = {
    name,
    phase: state ? state.phase : present.size > 0 ? 'leftovers' : 'absent',
    runDir: plan.runDir,
    apiReady: false,
    processes: (state?.processes ?? []).map((p) => ({
      id: p.id,
      pid: p.pid,
      alive: isRecordAlive(p),
      logFile: p.logFile,
    })),
    namespaces: [...new Set([...(state?.namespaces ?? []), ...present])].map((n) => ({
      name: n,
      present: present.has(n),
    })),
    nodes: (state?.plan.nodes ?? []).map((n) => ({ name: n.name, ip: n.ip, netns: n.netns, podCIDRs: [] })),
  };
  if (!state?.adminPort || !existsSync(files.caCert) || !existsSync(files.tokenFile)) return status;
  status.adminKubeconfig = files.adminKubeconfig;
  const endpoint = readAdminEndpoint(files, state.adminPort);
  try {
    status.apiReady = (await apiRequest(endpoint, 'GET', '/readyz', { timeoutMs: 2000 })).status === 200;
    const r = await apiRequest(endpoint, 'GET', '/api/v1/nodes', { timeoutMs: 3000 });
    const items = (
      JSON.parse(r.body) as { items?: Array<{ metadata: { name: string }; spec?: { podCIDRs?: string[] } }> }
    ).items;
    for (const n of status.nodes)
      n.podCIDRs = items?.find((i) => i.metadata.name === n.name)?.spec?.podCIDRs ?? [];
  } catch {
    /* not answering: apiReady stays false */
  }
  return status;
}
