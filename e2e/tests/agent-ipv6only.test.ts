/**
 * An IPv6-only local cluster (ADR 19): the control plane on IPv6 (API server, etcd, service
 * CIDR fd00:10:96::/112, node IPAM from fd00:10:244::/56), nodes with nothing but an IPv6
 * underlay address (node1, node2 on subnet A; node3 on B; no IPv4 address, route or sysctl in
 * any cluster namespace), real agents with a net-conf of one IPv6 cluster CIDR (backend auto)
 * and pods made through the installed conflist. Checked: one route family, a direct (host-gw)
 * route to the same-subnet peer and VXLAN over the IPv6 underlay to the other, one IPv6 address
 * per pod, the ping matrix, sources kept on both paths, egress masqueraded to the node's IPv6
 * address, an IPv6 hostPort, weft status, the gossip mesh over IPv6, DEL freeing the address.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { seenSource, startEchoServer } from '../cluster/echo-server.js';
import { runCommand } from '../cluster/exec.js';
import { EXTERNAL6 } from '../cluster/index.js';
import { addPod, checkPod, deletePod, type Pod, resultAddresses } from '../cluster/pods.js';
import { AGENT_HTTP_PORT, isWeftRoute, routes, waitFor } from './fixtures/agent-cluster.js';
import { assertIpv6PeerPaths, pingFailures, routes6, useFamilyCluster } from './fixtures/family-cluster.js';
import { peerOf, runWeftStatus, statusOf } from './fixtures/gossip-cluster.js';

/** VXLAN over an IPv6 underlay: 40 bytes of IPv6 header instead of 20 (ADR 19). */
const VXLAN6_MTU = 1500 - 70;

interface JsonAddr {
  ifname: string;
  addr_info: { family: string; local: string; scope: string }[];
}

describe('IPv6-only local cluster: Weft end to end without IPv4', { timeout: 300_000 }, () => {
  const suite = useFamilyCluster('six', 'ipv6', { gossip: true });
  const { pods, servers, cluster, node, podOn, podCIDR6: podCIDR, cidrs } = suite;
  /** IPv4 addresses in `netns` other than loopback's. */
  const ipv4Addresses = async (netns: string) => {
    const r = await cluster().execInNode(netns, ['ip', '-4', '-j', 'addr', 'show']);
    return (JSON.parse(r.stdout || '[]') as JsonAddr[])
      .filter((l) => l.ifname !== 'lo')
      .flatMap((l) => l.addr_info.map((a) => `${l.ifname} ${a.local}`));
  };

  it('every Node has one IPv6 InternalIP and one IPv6 podCIDR; no node namespace has an IPv4 address', async () => {
    const nodes = JSON.parse(await cluster().kubectl(['get', 'nodes', '-o', 'json'])) as {
      items: { metadata: { name: string }; status: { addresses: { type: string; address: string }[] } }[];
    };
    for (const n of cluster().nodes) {
      const item = nodes.items.find((i) => i.metadata.name === n.name);
      const internal = item?.status.addresses.filter((a) => a.type === 'InternalIP').map((a) => a.address);
      assert.deepEqual(internal, [n.ip], n.name);
      assert.ok(n.ip.includes(':'), n.ip);
      const list = cidrs().get(n.name) ?? [];
      assert.ok(list.length === 1 && list[0]?.startsWith('fd00:10:244:'), `${n.name}: ${list.join(',')}`);
      assert.deepEqual(await ipv4Addresses(n.netns), [], n.netns);
    }
  });

  it('same-subnet peer by a direct route via its IPv6 node address, the other through weft.vxlan; no IPv4 Weft route', async () => {
    await assertIpv6PeerPaths(suite);
    assert.equal(node(2).ip6, node(2).ip, 'the IPv6 address is the primary one');
    for (const n of cluster().nodes) {
      assert.deepEqual((await routes(cluster(), n)).filter(isWeftRoute), [], `${n.name} IPv4 Weft routes`);
    }
  });

  it('weft.vxlan runs over the IPv6 underlay: local address, MTU underlay − 70, FDB entry to the peer', async () => {
    const link = await cluster().execInNode(node(1), ['ip', '-d', '-j', 'link', 'show', 'weft.vxlan']);
    const [dev] = JSON.parse(link.stdout) as { mtu: number; linkinfo: { info_data: object } }[];
    assert.ok(JSON.stringify(dev?.linkinfo.info_data).includes(node(1).ip), link.stdout);
    assert.equal(dev?.mtu, VXLAN6_MTU);
    const fdb = await cluster().execInNode(node(1), ['bridge', '-j', 'fdb', 'show', 'dev', 'weft.vxlan']);
    const dsts = (JSON.parse(fdb.stdout || '[]') as { dst?: string }[]).map((e) => e.dst);
    assert.ok(dsts.includes(node(3).ip), fdb.stdout);
  });

  it('ADD gives each pod exactly one address, IPv6 from its node podCIDR; CHECK passes', async () => {
    for (const n of cluster().nodes) pods.push(await addPod(n, 'a'));
    pods.push(
      await addPod(node(1), 'hp', { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] }),
    );
    for (const p of pods) {
      assert.deepEqual(resultAddresses(p.result), [p.ip], JSON.stringify(p.result));
      assert.equal(p.ip6, p.ip);
      const prefix = podCIDR(p.node).split('::')[0] as string;
      assert.ok(p.ip.startsWith(`${prefix}:`), `${p.ip} in ${podCIDR(p.node)}`);
      assert.deepEqual(await ipv4Addresses(p.netns), [], p.netns);
      await checkPod(p);
    }
  });

  it('every pod reaches every other pod (same node, same subnet, other subnet)', async () => {
    assert.equal(pods.length, 4, 'the pods of the ADD test');
    assert.deepEqual(await pingFailures(cluster(), pods, (b) => [b.ip]), []);
  });

  it('pod→pod keeps the pod source address, direct and through VXLAN', async () => {
    for (const i of [2, 3]) servers.push(await startEchoServer(podOn(i).netns, 8001, 10_000, '::'));
    const paths = [
      [podOn(1), podOn(2), 'direct (same subnet)'],
      [podOn(1), podOn(3), 'VXLAN (other subnet)'],
      [podOn(3), podOn(2), 'VXLAN, from subnet B'],
    ] as const;
    for (const [from, to, path] of paths) {
      assert.equal(await seenSource(cluster(), from.netns, to.ip, 8001), from.ip, path);
    }
  });

  it('egress is masqueraded to the node IPv6 address', async () => {
    servers.push(await startEchoServer(cluster().external.netns, 8000, 10_000, '::'));
    assert.equal(cluster().external.ip, EXTERNAL6.ip);
    assert.equal(pods.length, 4, 'the pods of the ADD test');
    for (const p of pods) {
      assert.equal(await seenSource(cluster(), p.netns, EXTERNAL6.ip, 8000), p.node.ip, p.netns);
    }
  });

  it('a hostPort on node1 serves IPv6 from node3', async () => {
    const hp = pods.find((p) => p.id === 'hp') as Pod;
    servers.push(await startEchoServer(hp.netns, 80, 10_000, '::'));
    assert.equal(await seenSource(cluster(), node(3).netns, node(1).ip, 8080), node(3).ip);
  });

  it('weft status shows the IPv6 underlay, the IPv6 podCIDR and the route kind per peer; /metrics answers over IPv6', async () => {
    const s = await statusOf(cluster(), node(1));
    const text = JSON.stringify(s);
    assert.equal(s.node.underlayIP, node(1).ip, text);
    assert.ok(text.includes(podCIDR(node(1))), text);
    const kind = (name: string) => {
      const p = peerOf(s, name) as { route: string | null; route6?: string } | undefined;
      return p?.route6 ?? p?.route;
    };
    assert.deepEqual([kind(node(2).name), kind(node(3).name)], ['direct', 'vxlan'], text);
    assert.equal(peerOf(s, node(3).name)?.underlayIP, node(3).ip, text);
    assert.ok((await runWeftStatus(cluster(), node(1), false)).includes(node(1).ip));
    const url = `http://[${node(1).ip}]:${AGENT_HTTP_PORT}/metrics`;
    const scrape = await cluster().execInNode(node(3), [
      'curl',
      '-s',
      '-m',
      '3',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      url,
    ]);
    assert.equal(scrape.stdout, '200', `node3 → ${url} (WEFT_HTTP_ADDR [::]): ${scrape.stderr}`);
  });

  it('the gossip mesh runs over IPv6: every agent sees every other alive at its IPv6 underlay address', async () => {
    for (const n of cluster().nodes) {
      const s = await waitFor(
        `${n.name} sees its peers alive`,
        async () => {
          const st = await statusOf(cluster(), n);
          return st.peers.length === 2 && st.peers.every((p) => p.state === 'alive') ? st : undefined;
        },
        30_000,
        250,
      );
      assert.equal(s.gossip.state, 'on', JSON.stringify(s.gossip));
      for (const o of cluster().nodes.filter((x) => x !== n)) {
        assert.equal(peerOf(s, o.name)?.underlayIP, o.ip, `${n.name} → ${o.name}`);
      }
    }
  });

  it('IPAM keeps the address on disk while the pod lives and frees it on DEL', async () => {
    const p = pods.shift() as Pod;
    const ipamText = async () =>
      (await runCommand(['sh', '-c', `cat ${join(p.node.dirs.state, 'ipam')}/*.json`])).stdout;
    assert.ok((await ipamText()).includes(p.ip));
    await deletePod(p);
    assert.ok(!(await ipamText()).includes(p.ip));
  });
});

describe('IPv6-only, backend vxlan: the same-subnet peer through VXLAN too', { timeout: 300_000 }, () => {
  const { pods, servers, cluster, node, podCIDR6 } = useFamilyCluster('sixvx', 'ipv6', { backend: 'vxlan' });

  it('node1 routes both peers into weft.vxlan; pods on the three nodes reach each other, sources kept', async () => {
    const table = await routes6(cluster(), node(1));
    for (const i of [2, 3]) {
      const r = table.find((e) => e.dst === podCIDR6(node(i)));
      assert.ok(r?.dev === 'weft.vxlan' && isWeftRoute(r), `node${i}: ${JSON.stringify(r)}`);
    }
    for (const n of cluster().nodes) pods.push(await addPod(n, 'a'));
    assert.deepEqual(await pingFailures(cluster(), pods, (b) => [b.ip]), []);
    const [from, to] = pods as [Pod, Pod];
    servers.push(await startEchoServer(to.netns, 8001, 10_000, '::'));
    assert.equal(await seenSource(cluster(), from.netns, to.ip, 8001), from.ip, 'node1 → node2 pod');
  });
});

describe('IPv6-only, backend hostgw: direct routes on the shared subnet only', { timeout: 300_000 }, () => {
  const { pods, cluster, node, podCIDR6 } = useFamilyCluster('sixhg', 'ipv6', { backend: 'hostgw' });

  it('node1 routes node2 via its IPv6 address, leaves out node3 behind the router; node1 and node2 pods ping', async () => {
    const table = await routes6(cluster(), node(1));
    const toNode2 = table.find((e) => e.dst === podCIDR6(node(2)));
    assert.deepEqual([toNode2?.gateway, toNode2?.dev], [node(2).ip, 'eth0'], JSON.stringify(toNode2));
    assert.equal(
      table.find((e) => e.dst === podCIDR6(node(3))),
      undefined,
    );
    assert.ok(!table.some((e) => e.dev === 'weft.vxlan'), JSON.stringify(table));
    pods.push(await addPod(node(1), 'a'), await addPod(node(2), 'a'));
    assert.deepEqual(await pingFailures(cluster(), pods, (b) => [b.ip]), []);
  });
});
