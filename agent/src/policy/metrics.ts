import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** weft_networkpolicy_*: what the policy engine compiled, how long it took, what the kernel dropped. */
export class PolicyMetrics {
  readonly policies: Gauge;
  readonly pods: Gauge<'direction'>;
  readonly compileDuration: Histogram;
  readonly compileErrors: Counter;
  readonly applyDuration: Histogram;
  readonly problems: Counter;
  readonly dropped: Counter<'direction'>;

  constructor(registry: Registry, readDrops: () => Promise<ReadonlyMap<'ingress' | 'egress', number>>) {
    const registers = [registry];
    this.policies = new Gauge({
      name: 'weft_networkpolicy_policies',
      help: 'NetworkPolicies that select at least one pod of this node.',
      registers,
    });
    this.pods = new Gauge({
      name: 'weft_networkpolicy_pods',
      help: 'Pods of this node isolated by NetworkPolicy, by direction (ingress, egress).',
      labelNames: ['direction'],
      registers,
    });
    this.compileDuration = new Histogram({
      name: 'weft_networkpolicy_compile_duration_seconds',
      help: 'Time to compile policies, pods and namespaces into the nftables policy part.',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    });
    this.compileErrors = new Counter({
      name: 'weft_networkpolicy_compile_errors_total',
      help: 'Compilations that failed (the rules in force stay as they are).',
      registers,
    });
    this.applyDuration = new Histogram({
      name: 'weft_networkpolicy_apply_duration_seconds',
      help: 'Time from a compiled policy change to the reconcile pass that put it in the kernel.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 5],
      registers,
    });
    this.problems = new Counter({
      name: 'weft_networkpolicy_unenforceable_total',
      help: 'Distinct policy fields Weft cannot enforce as written (logged once each; that part allows nothing).',
      registers,
    });
    const last = new Map<string, number>();
    this.dropped = new Counter({
      name: 'weft_networkpolicy_dropped_packets_total',
      help: 'Packets dropped by NetworkPolicy on this node (nftables counters), by direction.',
      labelNames: ['direction'],
      registers,
      async collect() {
        const drops = await readDrops().catch(() => new Map<string, number>());
        for (const [direction, packets] of drops) {
          const before = last.get(direction) ?? 0;
          // A rewritten table restarts its counters: count from zero again.
          const delta = packets >= before ? packets - before : packets;
          last.set(direction, packets);
          if (delta > 0) this.inc({ direction }, delta);
        }
      },
    });
  }
}
