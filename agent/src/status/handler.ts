import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SyncResult } from '../datapath/types.js';
import type { MeshView } from '../gossip/options.js';
import type { LocalNetworkProvider } from '../local-network.js';
import { computeStatus, type IpamStats } from './status.js';

export interface StatusProviders {
  readonly nodeName: string;
  readonly mesh: () => MeshView | undefined;
  readonly sync: () => SyncResult | undefined;
  readonly localNetwork: LocalNetworkProvider;
  readonly ipam?: () => IpamStats | undefined;
  readonly now?: () => number;
}

/** The /api/v1/status route: mount with http.addRoute('/api/v1/status', statusHandler(...)). */
export function statusHandler(p: StatusProviders): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' });
      res.end();
      return;
    }
    const body = JSON.stringify(
      computeStatus({
        nodeName: p.nodeName,
        mesh: p.mesh(),
        sync: p.sync(),
        local: p.localNetwork(),
        ipam: p.ipam?.(),
        nowMs: (p.now ?? Date.now)(),
      }),
    );
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
