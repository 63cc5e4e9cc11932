#!/usr/bin/env node
import type { Registry } from 'prom-client';
import { errorMessage } from '../../common/errors.js';
import { formatHostPort } from '../../common/ip.js';
import { createLogger, type Logger } from '../../common/log.js';
import { createCniExtension } from './cni/index.js';
import { type AgentOptions, agentUsage, parseAgentOptions } from './config/agent-options.js';
import { ConfigError } from './config/config-error.js';
import { clusterFamilies, loadNetConf, type NetConf, underlayFamily } from './config/net-conf.js';
import { Datapath } from './datapath/datapath.js';
import { Netlink } from './datapath/netlink.js';
import { createGossipExtension } from './gossip/extension.js';
import { AgentHttpServer } from './http/server.js';
import { KubeClient } from './kube/api-client.js';
import { type KubeTarget, loadKubeTarget } from './kube/kubeconfig.js';
import { KubeNodeApi } from './kube/node-api.js';
import { applyNetworkAvailable } from './kube/node-status.js';
import { NodeWatcher } from './kube/node-watcher.js';
import { createAgentRegistry, readAgentVersion } from './metrics.js';
import { ViewCacheWriter } from './peers/cache-writer.js';
import { PeerStore } from './peers/peer-store.js';
import { ViewCache } from './peers/view-cache.js';
import { createPolicyExtension } from './policy/extension.js';
import { assertPreflight } from './preflight.js';
import { createLocalNetworkProvider } from './reconcile/local-network-provider.js';
import { ReconcileLoop } from './reconcile/loop.js';
import { ReconcileMetrics } from './reconcile/metrics.js';
import { readinessOf } from './reconcile/readiness.js';
import type { AgentExtension, AgentRuntime } from './runtime.js';
import { STATUS_PATH, statusHandler } from './status/handler.js';
import { createStatusSource } from './status/runtime-source.js';
import { computeDatapathConfig, runUninstall } from './uninstall.js';
import { WireguardError } from './wireguard/errors.js';
import { WireguardManager } from './wireguard/manager.js';

const cni = createCniExtension();
const gossip = createGossipExtension();
const policy = createPolicyExtension();
const EXTENSIONS: readonly AgentExtension[] = [cni.start, gossip.start, policy.start];

const EXIT_CONFIG = 2;

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(agentUsage());
    return 0;
  }
  const root = createLogger('weft-agent');
  let opts: AgentOptions;
  let netConf: NetConf | undefined;
  try {
    opts = parseAgentOptions(argv, env);
    if (!opts.uninstall) netConf = await loadNetConf(opts.netConfPath);
    if (!opts.uninstall) await assertPreflight(opts, env, netConf);
  } catch (err: unknown) {
    return reportConfigError(root, err);
  }
  const log = root.child({ node: opts.nodeName });
  const registry = createAgentRegistry(readAgentVersion(env));
  let wireguard: WireguardManager | undefined;
  try {
    if (netConf && netConf.encryption !== 'none') wireguard = await createWireguard(opts, log, registry);
  } catch (err: unknown) {
    if (!(err instanceof WireguardError)) throw err;
    log.error({ err: err.message, code: err.code, op: 'start' }, 'cannot set up WireGuard');
    return EXIT_CONFIG;
  }
  const datapath = new Datapath({
    netlink: new Netlink(opts.netns ? { netns: opts.netns } : {}),
    log,
    registry,
    ...(wireguard ? { wireguard } : {}),
  });
  if (opts.uninstall) {
    await runUninstall(opts, datapath, log.child({ component: 'uninstall' }));
    return 0;
  }
  if (!netConf) throw new Error('unreachable: net-conf not loaded');
  return runAgent({ opts, netConf, log, registry, datapath, wireguard });
}

function createWireguard(opts: AgentOptions, log: Logger, registry: Registry): Promise<WireguardManager> {
  return WireguardManager.create({
    device: opts.wireguardName,
    stateDir: opts.stateDir,
    wireguardGo: opts.wireguardGo,
    runDir: opts.wireguardRunDir,
    netns: opts.netns,
    log,
    registry,
  });
}

async function runAgent(deps: {
  opts: AgentOptions;
  netConf: NetConf;
  log: Logger;
  registry: Registry;
  datapath: Datapath;
  wireguard: WireguardManager | undefined;
}): Promise<number> {
  const { opts, netConf, log, registry, datapath, wireguard } = deps;
  let kubeTarget: KubeTarget;
  try {
    kubeTarget = loadKubeTarget(opts.kubeconfig, process.env);
  } catch (err: unknown) {
    return reportConfigError(
      log,
      new ConfigError('KUBECONFIG', opts.kubeconfig ?? '<in-cluster>', errorMessage(err)),
    );
  }
  const ac = new AbortController();
  const stop = (signalName: string) => {
    if (ac.signal.aborted) return;
    log.info({ op: 'shutdown', signal: signalName }, 'stopping');
    ac.abort(new Error(`received ${signalName}`));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));

  const config = computeDatapathConfig(netConf, opts);
  log.info({ op: 'start', config, netns: opts.netns, stateDir: opts.stateDir }, 'weft agent starting');
  // Weft serves the families of the net-conf's cluster CIDRs: IPv6 only with an IPv6 one
  // (dual-stack, ADR 18: otherwise IPv6 podCIDRs and InternalIPs of the Nodes are ignored, as
  // before dual-stack), IPv4 only with an IPv4 one. Every node's underlayIP is of the cluster's
  // underlay family: IPv6 in an IPv6-only cluster (ADR 19), IPv4 otherwise.
  const underlay = underlayFamily(netConf);
  const storeLog = log.child({ component: 'peers' });
  const store = new PeerStore(opts.nodeName, {
    families: clusterFamilies(netConf),
    underlayFamily: underlay,
    onRefused: (node, reason) =>
      storeLog.warn({ peer: node.name, field: 'underlayIP', err: reason, op: 'merge' }, 'peer skipped'),
  });
  const cache = new ViewCache({ stateDir: opts.stateDir, log: log.child({ component: 'cache' }) });
  const cached = await cache.load(opts.nodeName);
  if (cached) {
    store.replaceAll(cached.nodes, 'cache');
    log.info(
      { op: 'load', nodes: cached.nodes.length, writtenAt: cached.writtenAt },
      'cluster view restored from cache',
    );
  }
  const resyncMs = netConf.resyncSeconds * 1000;
  const loop = new ReconcileLoop({
    datapath,
    store,
    config,
    resyncMs,
    log: log.child({ component: 'reconcile' }),
    metrics: new ReconcileMetrics(registry),
  });
  wireguard?.onDeviceLost(() => loop.triggerFull());
  const onHup = () => rotateWireguardKey(wireguard, loop, log);
  process.on('SIGHUP', onHup);
  ac.signal.addEventListener('abort', () => process.off('SIGHUP', onHup), { once: true });
  const http = new AgentHttpServer({
    registry,
    log: log.child({ component: 'http' }),
    liveness: [
      {
        name: 'reconcile',
        check: () => ({
          ok: !loop.isStuck(),
          detail: `no reconcile pass started for ${Date.now() - loop.lastActivityAt} ms`,
        }),
      },
    ],
    readiness: [
      {
        name: 'reconcile',
        check: () => {
          const r = readinessOf(loop, store);
          return { ok: r.ready, detail: r.reason ?? '' };
        },
      },
    ],
  });
  try {
    await http.listen(opts.httpHost, opts.httpPort);
  } catch (err: unknown) {
    log.error({ err, op: 'listen', addr: formatHostPort(opts.httpHost, opts.httpPort) }, 'cannot listen');
    return 1;
  }

  const kube = new KubeClient(kubeTarget);
  const nodeApi = new KubeNodeApi(kube);
  const watcher = new NodeWatcher({
    api: nodeApi,
    store,
    underlayFamily: underlay,
    log: log.child({ component: 'kube' }),
  });
  const cacheWriter = new ViewCacheWriter({ store, cache, log: log.child({ component: 'cache' }) });
  let nodeStatus: Promise<unknown> = Promise.resolve();
  const offSynced = loop.onSynced(() => {
    offSynced();
    nodeStatus = applyNetworkAvailable({
      api: nodeApi,
      nodeName: opts.nodeName,
      log: log.child({ component: 'kube' }),
      signal: ac.signal,
    });
  });
  const runtime: AgentRuntime = {
    opts,
    netConf,
    log,
    registry,
    store,
    loop,
    datapath,
    http,
    kube,
    localNetwork: createLocalNetworkProvider(loop, config),
    ipamUsage: cni.ipamUsage,
    podGate: policy.podGate(netConf),
    wireguard,
    signal: ac.signal,
  };
  http.addRoute(STATUS_PATH, statusHandler(createStatusSource(runtime, gossip)));
  await Promise.all([
    loop.run(ac.signal),
    watcher.run(ac.signal),
    cacheWriter.run(ac.signal),
    ...EXTENSIONS.map((start) => start(runtime)),
  ]);
  await nodeStatus;
  wireguard?.close();
  await http.close();
  log.info({ op: 'shutdown' }, 'weft agent stopped');
  return 0;
}

/** SIGHUP: a new WireGuard key pair, applied by a pass at once (gossip publishes it after the pass). */
function rotateWireguardKey(wireguard: WireguardManager | undefined, loop: ReconcileLoop, log: Logger): void {
  if (wireguard === undefined) {
    log.warn({ op: 'rotate', signal: 'SIGHUP' }, 'SIGHUP ignored: WireGuard is not configured');
    return;
  }
  wireguard.rotate().then(
    () => loop.trigger(),
    (err: unknown) => log.error({ op: 'rotate', err }, 'WireGuard key rotation failed; the old key stays'),
  );
}

function reportConfigError(log: Logger, err: unknown): number {
  if (!(err instanceof ConfigError)) throw err;
  log.error({ field: err.field, value: err.value, err: err.message }, 'invalid configuration');
  return EXIT_CONFIG;
}

main(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  (err: unknown) => {
    createLogger('weft-agent').fatal({ err }, 'weft agent failed');
    process.exit(1);
  },
);
