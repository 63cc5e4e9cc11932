import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { SyncResult } from '../datapath/types.js';

/**
 * The reconcile loop's metrics, registered on the agent's own Registry. The
 * datapath owns weft_routes{backend,family} and weft_datapath_changes_total.
 */
export class ReconcileMetrics {
  readonly duration: Histogram;
  readonly errors: Counter;
  readonly lastSuccess: Gauge;
  readonly peers: Gauge;
  readonly lastChanges: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.duration = new Histogram({
      name: 'weft_reconcile_duration_seconds',
      help: 'Duration of one datapath reconcile pass (desired, observe, plan, apply).',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.errors = new Counter({
      name: 'weft_reconcile_errors_total',
      help: 'Reconcile passes that failed.',
      registers,
    });
    this.lastSuccess = new Gauge({
      name: 'weft_last_reconcile_success_timestamp_seconds',
      help: 'Unix time of the last successful reconcile pass.',
      registers,
    });
    this.peers = new Gauge({
      name: 'weft_peers',
      help: 'Peers (other nodes with a podCIDR) in the last programmed view.',
      registers,
    });
    this.lastChanges = new Gauge({
      name: 'weft_last_reconcile_changes',
      help: 'Kernel changes applied by the last successful reconcile pass.',
      registers,
    });
  }

  recordSuccess(result: SyncResult, peers: number, seconds: number): void {
    this.duration.observe(seconds);
    this.lastSuccess.set(Date.now() / 1000);
    this.peers.set(peers);
    this.lastChanges.set(result.changes);
  }

  recordFailure(seconds: number): void {
    this.duration.observe(seconds);
    this.errors.inc();
  }
}
