/**
 * A dual-stack local cluster (issue 15): a control plane with service and cluster CIDRs of both
 * families (kube-controller-manager allocates an IPv4 and an IPv6 podCIDR per Node), nodes with
 * an IPv4 and an IPv6 underlay address (node1, node2 on subnet A; node3 on B), real agents with
 * a dual-stack net-conf (backend auto) and pods made through the installed conflist. Checked per
 * family: pods get one address of each, reach each other across the direct path (same subnet)
 * and through VXLAN (other subnet, IPv6 inside the IPv4 tunnel) with their source kept, egress
 * is masqueraded to the node's address of that family, hostPort serves both, DEL frees both.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { seenSource, startEchoServer } from '../cluster/echo-server.js';
import { runCommand } from '../cluster/exec.js';
import { EXTERNAL, EXTERNAL6 } from '../cluster/index.js';
import { addPod, checkPod, deletePod, type Pod } from '../cluster/pods.js';
import { assertIpv6PeerPaths, pingFailures, useFamilyCluster } from './fixtures/family-cluster.js';
import { peerOf, statusOf } from './fixtures/gossip-cluster.js';

describe('dual-stack local cluster: both families end to end', { timeout: 300_000 }, () => {
  const suite = useFamilyCluster('ds', 'dual');
  const { pods, servers, cluster, node, podOn, podCIDR6: v6CIDR, cidrs } = suite;

  it('the control plane gives every Node an IPv4 and an IPv6 podCIDR', () => {
    for (const n of cluster().nodes) {
      const list = cidrs().get(n.name) ?? [];
      assert.equal(list.length, 2, `${n.name}: ${list.join(',')}`);
      assert.ok(
        !list[0]?.includes(':') && list[1]?.includes(':'),
        `${n.name}: IPv4 first: ${list.join(',')}`,
      );
    }
  });

  it('IPv6 podCIDRs: same-subnet peer by a direct route via its IPv6 node address, the other through weft.vxlan', async () => {
    const toNode3 = await assertIpv6PeerPaths(suite);
    assert.ok(toNode3.flags?.includes('onlink'), JSON.stringify(toNode3));
  });

  it('ADD gives each pod one address of each family from its node podCIDRs; CHECK passes', async () => {
    for (const n of cluster().nodes) pods.push(await addPod(n, 'a'));
    pods.push(
      await addPod(node(1), 'hp', { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] }),
    );
    for (const p of pods) {
      assert.ok(p.ip6, `${p.netns}: no IPv6 address in ${JSON.stringify(p.result)}`);
      const [v4Net, v6Net] = [cidrs().get(p.node.name)?.[0], v6CIDR(p.node)];
      assert.ok(v4Net && p.ip.startsWith(v4Net.split('.').slice(0, 3).join('.')), `${p.ip} in ${v4Net}`);
      const v6Prefix = v6Net.split('::')[0] as string;
      assert.ok(p.ip6.startsWith(`${v6Prefix}:`), `${p.ip6} in ${v6Net}`);
      await checkPod(p);
    }
  });

  it('every pod reaches every other pod over both families', async () => {
    assert.deepEqual(await pingFailures(cluster(), pods, (b) => [b.ip, b.ip6 as string]), []);
  });

  it('pod→pod keeps the pod source address of each family, direct and through VXLAN', async () => {
    for (const i of [2, 3]) servers.push(await startEchoServer(podOn(i).netns, 8001, 10_000, '::'));
    const from = podOn(1);
    for (const [to, path] of [
      [podOn(2), 'direct (same subnet)'],
      [podOn(3), 'VXLAN (other subnet)'],
    ] as const) {
      assert.equal(await seenSource(cluster(), from.netns, to.ip, 8001), from.ip, `IPv4 ${path}`);
      assert.equal(await seenSource(cluster(), from.netns, to.ip6 as string, 8001), from.ip6, `IPv6 ${path}`);
    }
    assert.equal(await seenSource(cluster(), podOn(3).netns, podOn(2).ip6 as string, 8001), podOn(3).ip6);
  });

  it('egress of each family is masqueraded to the node address of that family', async () => {
    servers.push(await startEchoServer(cluster().external.netns, 8000, 10_000, '::'));
    for (const p of pods) {
      assert.equal(await seenSource(cluster(), p.netns, EXTERNAL.ip, 8000), p.node.ip, `${p.netns} IPv4`);
      assert.equal(await seenSource(cluster(), p.netns, EXTERNAL6.ip, 8000), p.node.ip6, `${p.netns} IPv6`);
    }
  });

  it('a hostPort on node1 serves both families from node3', async () => {
    servers.push(await startEchoServer(pods[pods.length - 1]?.netns as string, 80, 10_000, '::'));
    const node3 = node(3);
    assert.equal(await seenSource(cluster(), node3.netns, node(1).ip, 8080), node3.ip, 'IPv4 hostPort');
    assert.equal(
      await seenSource(cluster(), node3.netns, node(1).ip6 as string, 8080),
      node3.ip6,
      'IPv6 hostPort',
    );
  });

  it('weft status shows the IPv6 underlay, both podCIDRs and the route kind of each family per peer', async () => {
    const s = await statusOf(cluster(), node(1));
    const text = JSON.stringify(s);
    assert.ok(text.includes(node(1).ip6 as string), text);
    assert.ok(text.includes(v6CIDR(node(1))), text);
    assert.ok(peerOf(s, node(3).name), text);
  });

  it('IPAM keeps both addresses on disk while the pod lives and frees both on DEL', async () => {
    const p = pods.shift() as Pod;
    const ipamText = async () =>
      (await runCommand(['sh', '-c', `cat ${join(p.node.dirs.state, 'ipam')}/*.json`])).stdout;
    const before = await ipamText();
    assert.ok(before.includes(p.ip) && before.includes(p.ip6 as string), before);
    await deletePod(p);
    const after = await ipamText();
    assert.ok(!after.includes(`"${p.ip}"`) && !after.includes(p.ip6 as string), after);
  });
});
