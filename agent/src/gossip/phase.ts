import type { GossipKeyProblem } from './key.js';

/**
 * Where the agent's gossip is, as the agent itself knows it (for `weft status`):
 * what it still waits for, or that the mesh runs. Only `running` means peers'
 * liveness and reachability are known.
 */
export type GossipPhase =
  /** Before the first look at the key. */
  | { readonly phase: 'starting' }
  /** The key file gives no key; re-read every few seconds. `message` says what was found. */
  | {
      readonly phase: 'no-key';
      readonly keyFile: string;
      readonly problem: GossipKeyProblem;
      readonly message: string;
    }
  /** Key loaded, but this node is not in the cluster view yet (its InternalIP is the gossip address). */
  | { readonly phase: 'no-self' }
  /** The gossip port cannot be bound; retried with backoff. */
  | { readonly phase: 'cannot-listen'; readonly port: number; readonly message: string }
  | { readonly phase: 'running'; readonly port: number; readonly insecure: boolean }
  /** Left the mesh (the agent is shutting down). */
  | { readonly phase: 'stopped' };
