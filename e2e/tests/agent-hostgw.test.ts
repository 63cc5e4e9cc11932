/** Real agents with the hostgw backend on a single underlay subnet of a local cluster. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Cluster, startCluster } from '../cluster/index.js';
import {
  type AgentRun,
  gatewayOf,
  isWeftRoute,
  pingFrom,
  prepareAgentCredentials,
  routes,
  startAgent,
  stopAll,
  waitAgentReady,
  writeNetConf,
} from './fixtures/agent-cluster.js';

describe('agent hostgw backend on one subnet', { timeout: 180_000 }, () => {
  let cluster: Cluster;
  let cidrs: Map<string, string[]>;
  const runs: AgentRun[] = [];

  before(async () => {
    cluster = await startCluster({ name: 'aghg', nodes: 3, subnets: 1 });
    cidrs = await cluster.waitForPodCIDRs();
    const kubeconfig = await prepareAgentCredentials(cluster);
    const netConf = writeNetConf(cluster, 'hostgw', {
      network: '10.244.0.0/16',
      backend: { type: 'hostgw' },
    });
    for (const n of cluster.nodes) runs.push(startAgent(cluster, n, { netConf, kubeconfig }));
    for (const n of cluster.nodes) {
      await waitAgentReady(cluster, n);
    }
  });

  after(async () => {
    await stopAll(runs);
    await cluster?.stop();
  });

  it('routes each peer podCIDR via the peer InternalIP and reaches its bridge', async () => {
    for (const from of cluster.nodes) {
      const table = await routes(cluster, from);
      assert.equal(
        (await cluster.execInNode(from, ['ip', 'link', 'show', 'weft.vxlan'])).code,
        1,
        'no VXLAN device',
      );
      for (const to of cluster.nodes) {
        if (to === from) continue;
        const cidr = cidrs.get(to.name)?.[0] as string;
        const route = table.find((r) => r.dst === cidr);
        assert.equal(route?.gateway, to.ip, `${from.name} → ${to.name}: ${JSON.stringify(route)}`);
        assert.ok(route && isWeftRoute(route));
        assert.ok(await pingFrom(cluster, from, gatewayOf(cidr)), `${from.name} → ${to.name} ping`);
      }
    }
  });
});
