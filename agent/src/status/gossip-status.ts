import type { GossipPhase } from '../gossip/phase.js';

/** Why gossip does not run; see GossipPhase. */
export type GossipOffReason =
  | 'starting'
  | 'no-key'
  | 'bad-key'
  | 'key-unreadable'
  | 'node-unknown'
  | 'cannot-listen'
  | 'stopped';

/** The `gossip` part of the status document. */
export interface StatusGossip {
  readonly state: 'on' | 'off';
  /** null when on. */
  readonly reason: GossipOffReason | null;
  /** One sentence for people: what runs, or what gossip waits for and what to do. */
  readonly detail: string;
  /** The bound gossip port; null when off. */
  readonly port: number | null;
  /** Runs with the public test key (WEFT_GOSSIP_INSECURE). */
  readonly insecure: boolean;
}

function off(reason: GossipOffReason, detail: string): StatusGossip {
  return { state: 'off', reason, detail, port: null, insecure: false };
}

/** The gossip phase as the status document says it; `keySecret` is "namespace/name"; pure. */
export function computeGossipStatus(p: GossipPhase, keySecret: string): StatusGossip {
  switch (p.phase) {
    case 'running':
      return {
        state: 'on',
        reason: null,
        detail: `port ${p.port}${p.insecure ? ', public test key (WEFT_GOSSIP_INSECURE)' : ''}`,
        port: p.port,
        insecure: p.insecure,
      };
    case 'starting':
      return off('starting', 'starting');
    case 'no-key':
      if (p.problem === 'missing')
        return off(
          'no-key',
          `no key: ${p.keyFile} not found (Secret ${keySecret} missing or not mounted yet; weft-controller creates it)`,
        );
      if (p.problem === 'short') return off('bad-key', `bad key: ${p.message} (Secret ${keySecret})`);
      return off('key-unreadable', `cannot read the key: ${p.message}`);
    case 'no-self':
      return off(
        'node-unknown',
        'waiting for this node in the cluster view (its InternalIP is the gossip address)',
      );
    case 'cannot-listen':
      return off('cannot-listen', `cannot listen on port ${p.port}: ${p.message} (retrying)`);
    case 'stopped':
      return off('stopped', 'left the mesh (the agent is stopping)');
  }
}
