import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface IpamUsage {
  readonly network: string;
  readonly allocated: number;
  readonly capacity: number;
}

/** The CNI server's metrics, registered on the agent's registry. */
export class CniMetrics {
  readonly requests: Counter<'command' | 'result'>;
  readonly duration: Histogram<'command'>;

  constructor(registry: Registry, usage: () => IpamUsage[]) {
    this.requests = new Counter({
      name: 'weft_cni_requests_total',
      help: 'CNI requests served, by command and result (ok, or the CNI error code).',
      labelNames: ['command', 'result'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'weft_cni_request_duration_seconds',
      help: 'Time the agent took to serve a CNI request.',
      labelNames: ['command'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    new Gauge({
      name: 'weft_ipam_allocated',
      help: 'Pod addresses allocated inside the current podCIDRs (dual-stack: of the family with the fewest free).',
      labelNames: ['network'],
      registers: [registry],
      collect() {
        this.reset();
        for (const u of usage()) this.set({ network: u.network }, u.allocated);
      },
    });
    new Gauge({
      name: 'weft_ipam_capacity',
      help: 'Pod addresses available in total in the current podCIDRs (dual-stack: of the family with the fewest free).',
      labelNames: ['network'],
      registers: [registry],
      collect() {
        this.reset();
        for (const u of usage()) this.set({ network: u.network }, u.capacity);
      },
    });
  }
}
