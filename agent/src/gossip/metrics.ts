import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { FRAME_TYPES, REJECT_REASONS } from './frame.js';
import { PEER_STATES } from './liveness.js';

export interface GossipMetrics {
  readonly messages: Counter<'direction' | 'kind'>;
  readonly bytes: Counter<'direction'>;
  readonly rejected: Counter<'reason'>;
  readonly peers: Gauge<'state'>;
  readonly rtt: Histogram;
  readonly roundDuration: Histogram;
  readonly roundErrors: Counter;
}

/**
 * Gossip metrics in the given registry. RTT is a histogram without a peer
 * label: its cardinality stays fixed however large the cluster (per-peer RTT
 * is in `weft status`). Every label value is pre-set to 0.
 */
export function createGossipMetrics(registry: Registry): GossipMetrics {
  const registers = [registry];
  const m: GossipMetrics = {
    messages: new Counter({
      name: 'weft_gossip_messages_total',
      help: 'Gossip frames sent (out) and accepted (in), by frame kind',
      labelNames: ['direction', 'kind'],
      registers,
    }),
    bytes: new Counter({
      name: 'weft_gossip_bytes_total',
      help: 'Gossip payload bytes sent and received',
      labelNames: ['direction'],
      registers,
    }),
    rejected: new Counter({
      name: 'weft_gossip_rejected_total',
      help: 'Gossip frames or records dropped, by reason',
      labelNames: ['reason'],
      registers,
    }),
    peers: new Gauge({
      name: 'weft_gossip_peers',
      help: 'Peers known to gossip, by state (alive, suspect, dead, left)',
      labelNames: ['state'],
      registers,
    }),
    rtt: new Histogram({
      name: 'weft_peer_rtt_seconds',
      help: 'Round-trip time of gossip ping/pong and digest/answer exchanges to peers',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    roundDuration: new Histogram({
      name: 'weft_gossip_round_duration_seconds',
      help: 'Time spent in one gossip round',
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1],
      registers,
    }),
    roundErrors: new Counter({
      name: 'weft_gossip_round_errors_total',
      help: 'Gossip rounds that failed',
      registers,
    }),
  };
  for (const direction of ['in', 'out']) {
    m.bytes.inc({ direction }, 0);
    for (const kind of FRAME_TYPES) m.messages.inc({ direction, kind }, 0);
  }
  for (const reason of REJECT_REASONS) m.rejected.inc({ reason }, 0);
  for (const state of PEER_STATES) m.peers.set({ state }, 0);
  return m;
}
