#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { ConfigError } from '../../agent/src/config/config-error.js';
import { errorMessage } from '../../common/errors.js';
import { formatIpPrefix } from '../../common/ip-prefix.js';
import { createLogger, type Logger } from '../../common/log.js';
import { runLeaderChores } from './chores.js';
import { startHttpServer } from './http.js';
import { createControllerApis, LEASE_NAME, loadControllerKubeConfig } from './kube-apis.js';
import { DEFAULT_LEASE_TIMING, LeaseElector } from './leader.js';
import { createControllerMetrics } from './metrics.js';
import { loadControllerNetConf, parseControllerNetConf } from './net-conf.js';
import { NodeCidrController } from './node-cidr-controller.js';
import { parseControllerEnv } from './options.js';
import { createPodCidrAllocators } from './pod-cidr-allocators.js';
import { computeReadiness } from './probes.js';

const EXIT_LOST_LEADERSHIP = 1;
const EXIT_CONFIG = 2;
const SHUTDOWN_GRACE_MS = 5000;

/**
 * weft-controller: wires the pieces. Leadership lost = exit(1) so that the Deployment
 * restarts a clean process (no chore can outlive the lease); SIGTERM = release the
 * lease and exit(0).
 */
async function main(): Promise<number> {
  const log = createLogger('weft-controller');
  const opts = parseControllerEnv(process.env);
  const apis = createControllerApis(loadControllerKubeConfig(opts.kubeconfigPath), opts.namespace);
  const netConf =
    opts.netConfPath !== undefined
      ? await loadControllerNetConf(opts.netConfPath)
      : parseControllerNetConf(await apis.readNetConf());
  const registry = new Registry();
  const metrics = createControllerMetrics(registry, { version: readVersion() });
  const nodeCidrs = new NodeCidrController({
    nodes: apis.nodes,
    makeInformer: apis.makeNodeInformer,
    allocators: createPodCidrAllocators(netConf),
    metrics,
    log: log.child({ component: 'node-cidrs' }),
  });
  const elector = new LeaseElector({
    api: apis.leases,
    name: LEASE_NAME,
    namespace: opts.namespace,
    identity: opts.identity,
    timing: DEFAULT_LEASE_TIMING,
    metrics,
    log: log.child({ component: 'leader' }),
    onStartedLeading: (signal) => {
      void runLeaderChores(
        { nodeCidrs, secrets: apis.secrets, namespace: opts.namespace, metrics, log },
        signal,
      );
    },
    onStoppedLeading: (reason) => {
      log.fatal({ op: 'lease', reason }, 'exiting after losing leadership');
      process.exit(EXIT_LOST_LEADERSHIP);
    },
  });
  metrics.isLeader.set(0);
  const http = await startHttpServer(
    opts.httpAddress,
    registry,
    {
      healthz: () => ({ ok: true, detail: 'alive' }),
      readyz: () =>
        computeReadiness({
          nowMs: Date.now(),
          lastLeaseContactMs: elector.lastContactMs,
          leaseDurationMs: DEFAULT_LEASE_TIMING.durationSeconds * 1000,
          isLeader: elector.isLeader,
          nodesSynced: nodeCidrs.synced,
        }),
    },
    log,
  );
  log.info(
    {
      identity: opts.identity,
      namespace: opts.namespace,
      clusterCIDRs: netConf.clusterCidrs.map(formatIpPrefix).join(','),
    },
    'weft-controller started',
  );
  const stop = new AbortController();
  const running = elector.run(stop.signal);
  const signal = await new Promise<string>((resolve) => {
    for (const name of ['SIGTERM', 'SIGINT'] as const) process.once(name, () => resolve(name));
  });
  log.info({ signal }, 'shutting down');
  stop.abort();
  await Promise.race([running, new Promise((r) => setTimeout(r, SHUTDOWN_GRACE_MS).unref())]);
  await elector
    .release()
    .catch((err: unknown) => log.warn({ op: 'lease', err: errorMessage(err) }, 'release failed'));
  await http.close();
  return 0;
}

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function reportFailure(log: Logger, err: unknown): number {
  if (err instanceof ConfigError) {
    log.fatal({ field: err.field, err: err.message }, 'invalid configuration');
    return EXIT_CONFIG;
  }
  log.fatal({ err: errorMessage(err) }, 'weft-controller failed');
  return 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => process.exit(reportFailure(createLogger('weft-controller'), err)),
);
