import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../../common/backoff.js';
import type { Logger } from '../../common/log.js';
import { requireHostTools } from '../../scripts/host-tools.js';
import { runChecked } from '../cluster/exec.js';
import type { ControlPlaneFiles } from '../cluster/flags.js';
import type { ClusterTokens } from '../cluster/pki.js';
import type { ClusterPlan } from '../cluster/plan.js';
import { checkBinDir, NODE_K8S_BINARIES } from '../cluster/prereq.js';
import { isRecordAlive } from '../cluster/processes.js';
import { ClusterError } from '../cluster/spec.js';
import type { ClusterStateStore } from '../cluster/state.js';
import { resolveNodeBinDir } from '../nodebin/bins.js';
import { acquireKubeletTunables } from './kernel-tunables.js';
import { importNodeImages, resolveNodeImages } from './node-images.js';
import {
  nodeFailure,
  nodeRecord,
  type RealNode,
  type RealNodeContext,
  startRealNode,
} from './node-runtime.js';
import { KUBE_PROXY_USER, kubeletUser } from './users.js';

/** Starts every node's containerd, kubelet and kube-proxy (in parallel), after setting kubelet's kernel tunables. */
export async function startRealNodes(
  c: {
    plan: ClusterPlan;
    files: ControlPlaneFiles;
    binDir: string;
    store: ClusterStateStore;
    log: Logger;
    tokens: ClusterTokens;
    /** Names of the registered Node objects. */
    registeredNodes: () => Promise<string[]>;
  },
  signal?: AbortSignal,
): Promise<RealNode[]> {
  requireHostTools(['runc', 'unshare', 'nsenter', 'mount', 'nft', 'iptables-save']);
  const nodeBinDir = await resolveNodeBinDir();
  checkBinDir(c.binDir, NODE_K8S_BINARIES);
  const images = await resolveNodeImages();
  const runcBinary = (await runChecked(['sh', '-c', 'command -v runc'])).trim();
  c.store.update((s) => {
    s.kernelTunables = true; // recorded first: teardown restores even if we die right after
  });
  acquireKubeletTunables(c.plan.name);
  const token = (user: string) => {
    const t = c.tokens.users[user];
    if (t === undefined) throw new ClusterError('ESTATE', `no token for ${user}`);
    return t;
  };
  const base = {
    clusterName: c.plan.name,
    apiServerURL: c.plan.apiServerURL,
    caPem: readFileSync(c.files.caCert, 'utf8'),
    caFile: c.files.caCert,
    kubeProxyToken: token(KUBE_PROXY_USER),
    k8sBinDir: c.binDir,
    nodeBinDir,
    runcBinary,
    importImages: (socket: string) => importNodeImages(join(nodeBinDir, 'ctr'), socket, images),
    logDir: c.files.logDir,
    store: c.store,
    log: c.log,
  };
  const nodes = await Promise.all(
    c.plan.nodes.map((n) => {
      const ctx: RealNodeContext = { ...base, kubeletToken: token(kubeletUser(n.name)) };
      return startRealNode(ctx, n, c.plan.external.ip, signal);
    }),
  );
  await waitForRegistration(c.plan, base, c.registeredNodes, 120_000, signal);
  return nodes;
}

/** Until every kubelet has registered its Node; a kubelet or kube-proxy that exits fails at once, naming its log. */
async function waitForRegistration(
  plan: ClusterPlan,
  ctx: Pick<RealNodeContext, 'store' | 'logDir'>,
  registered: () => Promise<string[]>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let missing = plan.nodes.map((n) => n.name);
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    for (const n of plan.nodes) {
      for (const c of ['containerd', 'kubelet', 'kube-proxy'] as const) {
        const rec = nodeRecord(ctx.store, n.name, c);
        if (!rec || !isRecordAlive(rec)) throw nodeFailure(ctx, n, c, `${c} exited`);
      }
    }
    const names = await registered().catch(() => [] as string[]);
    missing = plan.nodes.map((n) => n.name).filter((n) => !names.includes(n));
    if (missing.length === 0) return;
    await sleep(250, signal);
  }
  const first = plan.nodes.find((n) => missing.includes(n.name));
  throw first
    ? nodeFailure(ctx, first, 'kubelet', `kubelet did not register its Node within ${timeoutMs} ms`)
    : new ClusterError('ENODESTART', 'nodes did not register');
}
