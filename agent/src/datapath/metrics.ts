import { Counter, Gauge, type Registry } from 'prom-client';
import type { PeerRoute } from './types.js';

export type RouteFamily = 'ipv4' | 'ipv6';
const BACKENDS = [
  ['hostgw', 'direct'],
  ['vxlan', 'vxlan'],
  ['wireguard', 'wireguard'],
] as const;
const FAMILIES: readonly RouteFamily[] = ['ipv4', 'ipv6'];

/** The key of a route count: its kind and the family of its podCIDR ("vxlan/ipv6"). */
export const routeCountKey = (kind: PeerRoute, family: RouteFamily) => `${kind}/${family}`;

/** The datapath's own series; the reconcile loop owns weft_reconcile_*. */
export class DatapathMetrics {
  readonly routes: Gauge<'backend' | 'family'>;
  readonly changes: Counter;
  readonly applyErrors: Counter;

  constructor(registry: Registry) {
    this.routes = new Gauge({
      name: 'weft_routes',
      help: 'Routes to peer podCIDRs programmed by Weft, by backend and address family of the podCIDR.',
      labelNames: ['backend', 'family'],
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
    this.recordRoutes(new Map());
  }

  /** Sets every backend × family series; `counts` is keyed by routeCountKey (absent: 0). */
  recordRoutes(counts: ReadonlyMap<string, number>): void {
    for (const [backend, kind] of BACKENDS) {
      for (const family of FAMILIES)
        this.routes.set({ backend, family }, counts.get(routeCountKey(kind, family)) ?? 0);
    }
  }
}
