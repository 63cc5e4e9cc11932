import type { Registry } from 'prom-client';
import type { Logger } from '../../common/log.js';
import type { IpamUsage } from './cni/metrics.js';
import type { AgentOptions } from './config/agent-options.js';
import type { NetConf } from './config/net-conf.js';
import type { Datapath } from './datapath/datapath.js';
import type { AgentHttpServer } from './http/server.js';
import type { KubeClient } from './kube/api-client.js';
import type { LocalNetworkProvider } from './local-network.js';
import type { PeerStore } from './peers/peer-store.js';
import type { PodGate } from './pod-gate.js';
import type { ReconcileLoop } from './reconcile/loop.js';
import type { WireguardManager } from './wireguard/manager.js';

/**
 * Everything an extension (CNI server, gossip, network policy, status API) may
 * use; main builds it and imports the extensions, the extensions import only
 * this file (no cycle through main). Each extension takes a `Pick` of it.
 */
export interface AgentRuntime {
  readonly opts: AgentOptions;
  readonly netConf: NetConf;
  readonly log: Logger;
  readonly registry: Registry;
  readonly store: PeerStore;
  readonly loop: ReconcileLoop;
  readonly datapath: Datapath;
  readonly http: AgentHttpServer;
  /** The agent's API client (its ServiceAccount), for extensions that watch more kinds. */
  readonly kube: KubeClient;
  readonly localNetwork: LocalNetworkProvider;
  /** IPAM use per network (allocated/capacity) from the CNI server; [] until it runs. */
  readonly ipamUsage: () => IpamUsage[];
  /**
   * What CNI ADD waits on before it returns: the pod's network policy verdict in
   * the kernel (ADR 13 point 3). Admits at once when networkPolicy is off.
   */
  readonly podGate: PodGate;
  /** The WireGuard side (key, device) when the net-conf encrypts; undefined otherwise. */
  readonly wireguard: WireguardManager | undefined;
  readonly signal: AbortSignal;
}

/**
 * Hook point for the CNI server, gossip and network policy: each extension is
 * started after the runtime is wired and the HTTP server listens, and must
 * resolve once `signal` aborts (they run concurrently with the loops). Add
 * routes with rt.http.addRoute(path, handler) before returning the first await.
 * The status API is main's own: it reads every part, and gossip is only one of them.
 */
export type AgentExtension = (rt: AgentRuntime) => Promise<void>;
