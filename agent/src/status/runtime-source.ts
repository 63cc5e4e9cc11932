import { GOSSIP_KEY_SECRET } from '../../../common/names.js';
import type { GossipExtension } from '../gossip/extension.js';
import { readAgentVersion } from '../metrics.js';
import { readinessOf } from '../reconcile/readiness.js';
import type { AgentRuntime } from '../runtime.js';
import type { StatusSource } from './handler.js';
import type { IpamStats } from './status.js';

/** What the status API reads of the agent runtime. */
export type StatusRuntime = Pick<
  AgentRuntime,
  'opts' | 'netConf' | 'store' | 'loop' | 'localNetwork' | 'ipamUsage' | 'wireguard'
>;

/**
 * The status API's view of a running agent: readiness, backend, underlay and
 * podCIDRs from its own config, cluster view and last datapath sync; gossip
 * contributes its phase and, while it runs, the peers' liveness.
 */
export function createStatusSource(
  rt: StatusRuntime,
  gossip: Pick<GossipExtension, 'view' | 'phase'>,
): StatusSource {
  const agentVersion = readAgentVersion();
  const keySecret = `${rt.opts.namespace}/${GOSSIP_KEY_SECRET}`;
  return () => ({
    nodeName: rt.opts.nodeName,
    backend: rt.netConf.backend,
    agentVersion,
    keySecret,
    readiness: readinessOf(rt.loop, rt.store),
    cluster: rt.store.view(),
    sourceOf: (name) => rt.store.sourceOf(name),
    sync: rt.loop.lastResult,
    programmedSelf: rt.loop.lastSelf,
    local: rt.localNetwork(),
    ipam: sumIpam(rt.ipamUsage()),
    gossip: gossip.phase(),
    mesh: gossip.view(),
    wireguard: rt.wireguard?.status(),
  });
}

function sumIpam(usage: readonly { allocated: number; capacity: number }[]): IpamStats | undefined {
  if (usage.length === 0) return undefined;
  return {
    allocated: usage.reduce((s, u) => s + u.allocated, 0),
    capacity: usage.reduce((s, u) => s + u.capacity, 0),
  };
}
