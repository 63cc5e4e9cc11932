import type { Registry } from 'prom-client';
import type { Logger } from '../../../common/log.js';
import type { PeerState } from './liveness.js';
import type { NodeRecord, OwnFields } from './record.js';
import type { GossipTransport, PeerAddress } from './transport.js';

/** What the runtime reports about this node each round (the mesh adds the rest). */
export type SelfReport = Omit<OwnFields, 'gossipPort' | 'reachability'>;

export interface GossipTiming {
  /** Period of a gossip round (±10 % jitter). */
  readonly intervalMs: number;
  /** The own record's version advances at least this often. */
  readonly heartbeatMs: number;
  readonly suspectAfterMs: number;
  readonly deadAfterMs: number;
  /** How long a graceful leave is remembered. */
  readonly tombstoneTtlMs: number;
  /** Published reachability is refreshed at most this often. */
  readonly reachabilityPublishMs: number;
  /** A peer whose RTT is older than this gets a ping. */
  readonly rttRefreshMs: number;
  /** Accepted clock difference between agents. */
  readonly clockWindowMs: number;
}

export const DEFAULT_TIMING: GossipTiming = {
  intervalMs: 1000,
  heartbeatMs: 5000,
  suspectAfterMs: 20_000,
  deadAfterMs: 40_000,
  tombstoneTtlMs: 10 * 60_000,
  reachabilityPublishMs: 30_000,
  rttRefreshMs: 60_000,
  clockWindowMs: 30_000,
};

export interface GossipMeshOptions {
  /** This node's name (the Node object's name). */
  readonly name: string;
  readonly self: () => SelfReport;
  /** Cluster key, at least 16 bytes (see loadGossipKey / insecureGossipKey). */
  readonly key: Buffer;
  readonly listen: { readonly host: string; readonly port: number };
  /** Peers to talk to from outside gossip (the PeerStore): name and "ip:port". */
  readonly seeds: () => readonly PeerAddress[];
  readonly log: Logger;
  readonly registry: Registry;
  /** Defaults to a WebSocket transport on `listen`. */
  readonly transport?: GossipTransport;
  /** The port peers should dial, when it differs from the bound one. */
  readonly advertisePort?: number;
  readonly timing?: Partial<GossipTiming>;
  readonly maxFrameBytes?: number;
  /**
   * Records to start from, e.g. the agent's disk cache of the last view, so a
   * restarted agent (or a benchmark starting from a converged membership) does
   * not pull the whole state again. Records of this node's own name are ignored.
   */
  readonly initialRecords?: Iterable<NodeRecord>;
  readonly now?: () => number;
  readonly random?: () => number;
  /** Waits between rounds (default: a timer); a benchmark injects simulated time here. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface PeerView {
  readonly name: string;
  readonly state: PeerState;
  readonly record: NodeRecord;
  /** Epoch ms of the last sign of life. */
  readonly lastSeenAt: number;
  readonly rttMs: number | null;
}

export interface MeshView {
  readonly self: NodeRecord | undefined;
  readonly peers: readonly PeerView[];
}
