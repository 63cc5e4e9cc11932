/**
 * Weft on a dual-stack real-node cluster (kubelet + containerd + kube-proxy per node, CoreDNS):
 * the control plane with an IPv4 and an IPv6 Service CIDR and cluster CIDR, kubelets with
 * both node IPs, Weft installed from the chart with one cluster CIDR per family. Every pod has
 * an address of each family; the connectivity checks run over both (pod↔pod without NAT, IPv4
 * and IPv6 ClusterIP of a PreferDualStack Service, A and AAAA records, NodePort and hostPort at
 * both node addresses, egress masqueraded to the node's address of the family).
 *
 * Needs the image built by scripts/image.sh and the node images (e2e/images/build.sh);
 * scripts/test.sh includes this file only then.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../common/log.js';
import { parseNodeIps, runConnectivityChecks } from '../checks/connectivity.js';
import { type EchoServer, startEchoServer } from '../cluster/echo-server.js';
import {
  CLUSTER_CIDR,
  CLUSTER_CIDR6,
  type Cluster,
  destroyCluster,
  EXTERNAL6,
  startCluster,
} from '../cluster/index.js';
import {
  applyCheckWorkloads,
  installCoreDns,
  installWeftChart,
  listAgents,
  WEFT_IMAGE_NAME,
  waitForCheckWorkloads,
  waitForCoreDns,
  waitForWeft,
  weftImageTag,
  weftStatusIn,
} from '../realnode/addons.js';

const NAME = 'rnds';
const EXTERNAL_PORT = 8092;

describe('Weft on a dual-stack real-node cluster', { timeout: 1_200_000 }, () => {
  let cluster: Cluster;
  const external: EchoServer[] = [];
  const log = createLogger('e2e-realnodes-ds', process.env.WEFT_E2E_LOG ?? 'warn');
  const kubectl = (args: string[]) => cluster.kubectl(args, { timeoutMs: 30_000 });

  before(async () => {
    await destroyCluster(NAME);
    cluster = await startCluster({ name: NAME, nodes: 3, subnets: 2, kubelet: true, ipFamily: 'dual' }, log);
    await cluster.waitForPodCIDRs(180_000);
  });

  after(async () => {
    for (const e of external) await e.stop();
    await cluster?.stop({ keepLogs: process.env.WEFT_E2E_KEEP_LOGS === '1' });
  });

  it('every Node has a podCIDR and an InternalIP of each family', async () => {
    const nodes = JSON.parse(await kubectl(['get', 'nodes', '-o', 'json'])) as {
      items: { metadata: { name: string }; spec: { podCIDRs?: string[] } }[];
    };
    assert.equal(nodes.items.length, 3);
    for (const n of nodes.items) {
      const cidrs = n.spec.podCIDRs ?? [];
      assert.equal(cidrs.length, 2, `${n.metadata.name}: ${cidrs.join(', ')}`);
      assert.ok(!cidrs[0]?.includes(':') && cidrs[1]?.includes(':'), `${n.metadata.name}: IPv4 first`);
    }
    const json = await kubectl(['get', 'nodes', '-o', 'json']);
    assert.equal(parseNodeIps(json, 4).size, 3);
    assert.equal(parseNodeIps(json, 6).size, 3);
  });

  it('the chart with both cluster CIDRs brings every node up, then CoreDNS', async () => {
    await installWeftChart(cluster, { name: WEFT_IMAGE_NAME, tag: weftImageTag() }, [
      `network.clusterCIDRs={${CLUSTER_CIDR},${CLUSTER_CIDR6}}`,
    ]);
    await installCoreDns(cluster);
    await waitForWeft(cluster, 300);
    await waitForCoreDns(cluster, 300);
  });

  it('every agent serves both families: weft status lists an IPv6 route per peer', async () => {
    const agents = await listAgents(cluster);
    assert.equal(agents.length, 3);
    for (const a of agents) {
      const status = await weftStatusIn<{
        node?: { podCIDRs?: string[]; underlayIP6?: string };
        peers?: { name: string; route6?: string }[];
      }>(cluster, a.name);
      assert.equal(status.node?.podCIDRs?.length, 2, `${a.node}: ${JSON.stringify(status.node)}`);
      assert.ok(status.node?.underlayIP6, `${a.node}: no IPv6 underlay address in weft status`);
      const peers = status.peers ?? [];
      assert.equal(peers.length, 2, `${a.node}: ${JSON.stringify(peers)}`);
      for (const p of peers)
        assert.ok(p.route6, `${a.node} → ${p.name}: no IPv6 route (${JSON.stringify(p)})`);
    }
  });

  it('the connectivity checks pass over IPv4 and IPv6: pods, Services, DNS, NodePort, hostPort, egress', async () => {
    external.push(await startEchoServer(cluster.external.netns, EXTERNAL_PORT));
    external.push(await startEchoServer(cluster.external.netns, EXTERNAL_PORT + 1, 10_000, '::'));
    await applyCheckWorkloads(cluster);
    await waitForCheckWorkloads(cluster, 300);
    const json = await kubectl(['get', 'nodes', '-o', 'json']);
    const results = await runConnectivityChecks(kubectl, {
      nodeIps: parseNodeIps(json, 4),
      nodeIps6: parseNodeIps(json, 6),
      externalUrl: `http://${cluster.external.ip}:${EXTERNAL_PORT}/`,
      externalUrl6: `http://[${EXTERNAL6.ip}]:${EXTERNAL_PORT + 1}/`,
    });
    const ipv6 = results.filter((r) => r.name.startsWith('IPv6') || r.name.includes('AAAA'));
    assert.ok(
      ipv6.length >= 10,
      `only ${ipv6.length} IPv6 checks ran:\n${results.map((r) => r.name).join('\n')}`,
    );
    console.log(`# ${results.length} connectivity checks, ${ipv6.length} of them over IPv6`);
    const failed = results.filter((r) => !r.ok);
    assert.deepEqual(
      failed,
      [],
      results.map((r) => `${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.detail}`).join('\n'),
    );
  });
});
