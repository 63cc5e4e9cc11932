import { Counter, Gauge, type Registry } from 'prom-client';
import type { PeerRoute } from './types.js';

/** The datapath's own series; the reconcile loop owns weft_reconcile_*. */
export class DatapathMetrics {
  readonly routes: Gauge<'backend'>;
  readonly changes: Counter;
  readonly applyErrors: Counter;

  constructor(registry: Registry) {
    this.routes = new Gauge({
      name: 'weft_routes',
      help: 'Routes to peer podCIDRs programmed by Weft, by backend.',
      labelNames: ['backend'],
      registers: [registry],
    });
    this.changes = new Counter({
      name: 'weft_datapath_changes_total',
      help: 'Kernel changes (links, addresses, routes, neighbours, FDB entries, sysctls, nft tables) applied.',
      registers: [registry],
    });
    this.applyErrors = new Counter({
      name: 'weft_datapath_apply_errors_total',
      help: 'Datapath syncs whose apply step failed in part or whole.',
      registers: [registry],
    });
    this.routes.set({ backend: 'hostgw' }, 0);
    this.routes.set({ backend: 'vxlan' }, 0);
    this.routes.set({ backend: 'wireguard' }, 0);
  }

  recordRoutes(routesByKind: ReadonlyMap<PeerRoute, number>): void {
    this.routes.set({ backend: 'hostgw' }, routesByKind.get('direct') ?? 0);
    this.routes.set({ backend: 'vxlan' }, routesByKind.get('vxlan') ?? 0);
    this.routes.set({ backend: 'wireguard' }, routesByKind.get('wireguard') ?? 0);
  }
}
