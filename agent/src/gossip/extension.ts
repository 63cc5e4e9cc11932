import { backoffDelay, sleep } from '../../../common/backoff.js';
import { errorMessage } from '../../../common/errors.js';
import { formatHostPort } from '../../../common/ip.js';
import type { Logger } from '../../../common/log.js';
import { underlayFamily } from '../config/net-conf.js';
import { readAgentVersion } from '../metrics.js';
import type { AgentRuntime } from '../runtime.js';
import { GossipKeyError, insecureGossipKey, loadGossipKey } from './key.js';
import { GossipMesh } from './mesh.js';
import type { GossipTiming, MeshView, SelfReport } from './options.js';
import type { GossipPhase } from './phase.js';
import { LIMITS } from './record.js';
import type { PeerAddress } from './transport.js';

/** What gossip uses of the agent runtime. */
export type GossipRuntime = Pick<
  AgentRuntime,
  'opts' | 'netConf' | 'log' | 'registry' | 'store' | 'loop' | 'localNetwork' | 'signal' | 'wireguard'
>;

export interface GossipExtensionOptions {
  /** How often a missing or invalid key file is read again; default 5 s. */
  readonly keyRetryMs?: number;
  /** How long a graceful leave may take on SIGTERM; default 1 s. */
  readonly leaveWaitMs?: number;
}

export interface GossipExtension {
  /** Runs the mesh (once there is a key and this node is known) until the runtime's signal aborts. */
  start(rt: GossipRuntime): Promise<void>;
  /** The mesh's view; undefined until gossip runs (no key yet, or this node unknown). */
  view(): MeshView | undefined;
  /** What gossip waits for, or that it runs. */
  phase(): GossipPhase;
}

/**
 * Gossip timing from the configured failure-detection timeouts: rounds and
 * heartbeats at most every suspect/4 so that a live peer is never silent long
 * enough to look suspect (defaults 20 s/40 s give the ADR's 1 s rounds, 5 s heartbeat).
 */
export function computeGossipTiming(suspectAfterMs: number, deadAfterMs: number): Partial<GossipTiming> {
  const quarter = Math.floor(suspectAfterMs / 4);
  return {
    suspectAfterMs,
    deadAfterMs,
    intervalMs: Math.min(1000, quarter),
    heartbeatMs: Math.min(5000, quarter),
  };
}

/**
 * The agent's gossip: waits for the cluster key (the Secret is mounted optional
 * and created by weft-controller, so it may appear late) and for this node to be
 * known, then runs the mesh on 0.0.0.0:<gossipPort> ([::]:<gossipPort> in an IPv6-only
 * cluster, gossipListenHost) with the PeerStore's nodes as
 * seeds, the API view as the allowed peers, and feeds peers learnt through
 * signed gossip back into the PeerStore while the API has not listed. On
 * shutdown it publishes a tombstone (peers show `left`) and closes.
 */
export function createGossipExtension(options: GossipExtensionOptions = {}): GossipExtension {
  let mesh: GossipMesh | undefined;
  let phase: GossipPhase = { phase: 'starting' };
  const setPhase = (p: GossipPhase) => {
    phase = p;
  };
  return {
    view: () => mesh?.view(),
    phase: () => phase,
    async start(rt) {
      const log = rt.log.child({ component: 'gossip' });
      const key = await waitForKey(rt, log, options.keyRetryMs ?? 5000, setPhase);
      if (!key) return;
      if (!rt.store.view().self) setPhase({ phase: 'no-self' });
      if (!(await waitForSelf(rt))) return;
      mesh = new GossipMesh({
        name: rt.opts.nodeName,
        self: () => computeSelfReport(rt),
        key,
        listen: { host: gossipListenHost(rt.netConf), port: rt.opts.gossipPort },
        seeds: () => computeSeeds(rt),
        log: rt.log,
        registry: rt.registry,
        timing: computeGossipTiming(rt.opts.gossipSuspectMs, rt.opts.gossipDeadMs),
      });
      try {
        await runMesh(rt, mesh, log, options.leaveWaitMs ?? 1000, setPhase);
      } finally {
        setPhase({ phase: 'stopped' });
      }
    },
  };
}

type PhaseSink = (phase: GossipPhase) => void;

async function runMesh(
  rt: GossipRuntime,
  mesh: GossipMesh,
  log: Logger,
  leaveWaitMs: number,
  setPhase: PhaseSink,
) {
  // The mesh is closed here after the leave, not by the runtime's signal.
  const stop = new AbortController();
  const offs = [
    rt.store.onChange(() => {
      mesh.setAllowedPeers(computeAllowedPeers(rt));
      mesh.refreshSelf();
    }),
    rt.loop.onSynced(() => mesh.refreshSelf()),
    mesh.onChange(() => {
      const view = mesh.view().peers;
      const peers = view.map((p) => ({
        name: p.name,
        underlayIP: p.record.underlayIP,
        underlayIP6: p.record.underlayIP6,
        podCIDRs: p.record.podCIDRs,
        wgPublicKey: p.record.wgPublicKey,
        state: p.state,
      }));
      if (rt.store.syncGossip(peers)) log.info({ op: 'merge', source: rt.store.source }, 'peers from gossip');
      // A tombstone (left) no longer speaks for its key; the node's entry keeps the last one.
      const keys = new Map(view.filter((p) => p.state !== 'left').map((p) => [p.name, p.record.wgPublicKey]));
      if (rt.store.syncWireguardKeys(keys)) log.info({ op: 'merge' }, 'WireGuard keys from gossip');
    }),
  ];
  try {
    mesh.setAllowedPeers(computeAllowedPeers(rt));
    if (!(await startWithRetry(rt, mesh, stop.signal, log, setPhase))) return;
    await aborted(rt.signal);
    await mesh
      .leave(leaveWaitMs)
      .catch((err: unknown) => log.warn({ err, op: 'leave' }, 'gossip leave failed'));
    log.info({ op: 'leave' }, 'left the gossip mesh');
  } finally {
    for (const off of offs) off();
    await mesh.close();
  }
}

/** Binds the gossip port; retries with backoff (a port still held by a previous process). */
async function startWithRetry(
  rt: GossipRuntime,
  mesh: GossipMesh,
  signal: AbortSignal,
  log: Logger,
  setPhase: PhaseSink,
) {
  for (let attempt = 0; !rt.signal.aborted; attempt++) {
    try {
      const { port } = await mesh.start(signal);
      log.info(
        { op: 'listen', addr: formatHostPort(gossipListenHost(rt.netConf), port) },
        'gossip listening',
      );
      setPhase({ phase: 'running', port, insecure: rt.opts.gossipInsecure });
      return true;
    } catch (err: unknown) {
      setPhase({ phase: 'cannot-listen', port: rt.opts.gossipPort, message: errorMessage(err) });
      const delayMs = backoffDelay(attempt, 1000, 30_000);
      log.error({ err, op: 'listen', port: rt.opts.gossipPort, delayMs }, 'cannot start gossip');
      await sleep(delayMs, rt.signal).catch(() => undefined);
    }
  }
  return false;
}

/** The key from the file, re-read every `retryMs` until present; undefined when aborted first. */
async function waitForKey(
  rt: GossipRuntime,
  log: Logger,
  retryMs: number,
  setPhase: PhaseSink,
): Promise<Buffer | undefined> {
  if (rt.opts.gossipInsecure) {
    log.warn({ op: 'key' }, 'gossip runs with the public insecure key (WEFT_GOSSIP_INSECURE): tests only');
    return insecureGossipKey();
  }
  let reported = '';
  const keyFile = rt.opts.gossipKeyFile;
  while (!rt.signal.aborted) {
    try {
      const key = await loadGossipKey(keyFile);
      if (reported) log.info({ op: 'key', path: keyFile }, 'gossip key found');
      return key;
    } catch (err: unknown) {
      const problem = err instanceof GossipKeyError ? err.problem : 'unreadable';
      setPhase({ phase: 'no-key', keyFile, problem, message: keyProblemText(err) });
      if (errorMessage(err) !== reported) {
        reported = errorMessage(err);
        log.warn(
          { op: 'key', path: rt.opts.gossipKeyFile, err: reported, retryMs },
          'gossip key not available yet (weft-controller creates the Secret); gossip waits for it',
        );
      }
    }
    await sleep(retryMs, rt.signal).catch(() => undefined);
  }
  return undefined;
}

/** Resolves true once this node (its underlay IP) is in the PeerStore, false when aborted first. */
function waitForSelf(rt: GossipRuntime): Promise<boolean> {
  if (rt.store.view().self) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      off();
      rt.signal.removeEventListener('abort', onAbort);
      resolve(ok);
    };
    const onAbort = () => done(false);
    const off = rt.store.onChange(() => {
      if (rt.store.view().self) done(true);
    });
    if (rt.signal.aborted) onAbort();
    else rt.signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * This node's report: the API's InternalIPs and podCIDRs, and what the last reconcile
 * programmed. The IPv6 InternalIP only when the node has one (and the PeerStore kept it:
 * the cluster is dual-stack), so that an IPv4-only cluster's records stay as they were.
 */
export function computeSelfReport(rt: GossipRuntime): SelfReport {
  const self = rt.store.view().self;
  const local = rt.localNetwork();
  return {
    underlayIP: self?.underlayIP ?? '0.0.0.0',
    ...(self?.underlayIP6 === undefined ? {} : { underlayIP6: self.underlayIP6 }),
    podCIDRs: local?.podCIDRs ?? self?.podCIDRs ?? [],
    backend: rt.netConf.backend,
    mtu: local?.mtu ?? rt.loop.lastResult?.mtu ?? rt.netConf.mtu ?? 1500,
    ready: local !== undefined,
    agentVersion: readAgentVersion().slice(0, LIMITS.agentVersionLength),
    ...(rt.wireguard === undefined ? {} : { wgPublicKey: rt.wireguard.publicKey }),
  };
}

/**
 * Where gossip listens: every address of the family of the cluster's underlay — 0.0.0.0, or
 * :: in an IPv6-only cluster (ADR 19), where peers dial [underlayIP]:port. Not the underlay
 * address itself: the listener then survives a change of the node's InternalIP.
 */
export function gossipListenHost(netConf: Pick<GossipRuntime['netConf'], 'clusterCIDRs'>): string {
  return underlayFamily(netConf) === 6 ? '::' : '0.0.0.0';
}

/** Every other known node at its InternalIP and the cluster's gossip port ([IPv6]:port). */
export function computeSeeds(rt: Pick<GossipRuntime, 'opts' | 'store'>): PeerAddress[] {
  return rt.store
    .view()
    .nodes.filter((n) => n.name !== rt.opts.nodeName && rt.store.sourceOf(n.name) !== 'gossip')
    .map((n) => ({ name: n.name, address: formatHostPort(n.underlayIP, rt.opts.gossipPort) }));
}

/** The API view (name → InternalIP); undefined while the view is only the cache or empty. */
function computeAllowedPeers(rt: GossipRuntime): ReadonlyMap<string, string> | undefined {
  const view = rt.store.view();
  if (view.source !== 'api') return undefined;
  return new Map(view.nodes.map((n) => [n.name, n.underlayIP]));
}

/** The key error with the file system's reason ("… key: ENOENT: no such file or directory"). */
function keyProblemText(err: unknown): string {
  const cause = err instanceof Error && err.cause !== undefined ? `: ${errorMessage(err.cause)}` : '';
  return `${errorMessage(err)}${cause}`;
}

function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
