import { Counter, Gauge, type Registry } from 'prom-client';
import type { WgSkipReason } from './desired.js';
import type { WgImplementation } from './detect.js';

const SKIP_REASONS: readonly WgSkipReason[] = [
  'no-key',
  'bad-key',
  'duplicate-key',
  'own-key',
  'bad-endpoint',
];

/** weft_wireguard_*: which implementation, peers configured, peers left out, wireguard-go exits. */
export class WireguardMetrics {
  readonly userspaceExits: Counter;
  private readonly peers: Gauge;
  private readonly skipped: Gauge<'reason'>;

  constructor(registry: Registry, implementation: WgImplementation['kind']) {
    const impl = new Gauge({
      name: 'weft_wireguard_implementation',
      help: 'The WireGuard implementation providing the device (1 for the one in use): kernel, userspace or none.',
      labelNames: ['implementation'],
      registers: [registry],
    });
    for (const kind of ['kernel', 'userspace', 'none'] as const)
      impl.set({ implementation: kind }, kind === implementation ? 1 : 0);
    this.peers = new Gauge({
      name: 'weft_wireguard_peers',
      help: 'Peers configured on the WireGuard device.',
      registers: [registry],
    });
    this.skipped = new Gauge({
      name: 'weft_wireguard_peers_skipped',
      help: 'Peers left out of the WireGuard device (never reached in clear text instead), by reason.',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.userspaceExits = new Counter({
      name: 'weft_wireguard_userspace_exits_total',
      help: 'Times wireguard-go ended on its own (the next reconcile pass starts it again).',
      registers: [registry],
    });
    this.record(0, []);
  }

  record(peers: number, skipped: readonly { readonly reason: WgSkipReason }[]): void {
    this.peers.set(peers);
    for (const reason of SKIP_REASONS) {
      this.skipped.set({ reason }, skipped.filter((s) => s.reason === reason).length);
    }
  }
}
