import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../../../common/log.js';
import { Datapath } from '../../src/datapath/datapath.js';
import { buildTopology, type Topology, testConfig } from './datapath-topology.js';
import { addVethPair, NetnsSet, nsIpBatch, nsIpJson, nsRun, run } from './netns-helpers.js';

/**
 * ADR 14: a host on node n1 connects to its own node IP's NodePort, which an
 * imitation of kube-proxy DNATs to a pod on n3 (behind the router: VXLAN). The
 * pod must see n1's underlay IP, and the connection must work with strict
 * rp_filter on both nodes' underlay devices — its replies come back through the
 * tunnel, never as pod-sourced packets on the underlay.
 */
const POD_IP = '10.244.3.5';
const NODE_PORT = 30080;

/**
 * Imitates kube-proxy (nftables mode) for a Service with externalTrafficPolicy
 * Local whose only endpoint is remote: locally-originated traffic to the node's
 * own IP:NodePort (TCP and UDP) is marked for masquerade (0x4000, "fib saddr type
 * local") and DNATed to the endpoint (output hook, dstnat); postrouting (srcnat)
 * masquerades whatever carries the mark, clearing it, as kube-proxy's masquerading
 * chain does — including, if the mark were left on the packet, the VXLAN packet
 * that carries it (counted in "masq_other").
 * Plus two counters: pod-sourced packets arriving on the underlay and on the tunnel.
 */
const KUBE_PROXY_LIKE = `table ip wtkp {
  chain out {
    type nat hook output priority -100; policy accept;
    ip daddr 192.168.71.1 tcp dport ${NODE_PORT} fib saddr type local meta mark set meta mark | 0x4000 dnat to ${POD_IP}:8080
    ip daddr 192.168.71.1 udp dport ${NODE_PORT} fib saddr type local meta mark set meta mark | 0x4000 dnat to ${POD_IP}:8081
  }
  chain post {
    type nat hook postrouting priority 100; policy accept;
    meta mark & 0x4000 == 0 return
    ip daddr != ${POD_IP} counter name "masq_other"
    meta mark set meta mark ^ 0x4000
    masquerade fully-random
  }
  chain seen {
    type filter hook prerouting priority -300; policy accept;
    iifname "eth0" ip saddr ${POD_IP} counter name "underlay"
    iifname "weft.vxlan" ip saddr ${POD_IP} counter name "tunnel"
  }
  counter underlay { }
  counter tunnel { }
  counter masq_other { }
}
`;

const rules87 = (ns: string) =>
  nsIpJson<{ priority: number; iif?: string; fwmark?: string; table: string; protocol?: string }>(ns, [
    '-4',
    'rule',
    'show',
  ]).then((rules) => rules.filter((r) => r.table === '87'));
const routes87 = (ns: string) =>
  nsIpJson<{ dst: string; gateway?: string; protocol?: string }>(ns, ['-4', 'route', 'show', 'table', '87']);

const opsOf = (d: Datapath) => (d.lastPlan ?? []).map((o) => o.op);

async function counters(ns: string): Promise<Record<string, number>> {
  const doc = JSON.parse(await nsRun(ns, 'nft', ['-j', 'list', 'counters', 'table', 'ip', 'wtkp'])) as {
    nftables: { counter?: { name: string; packets: number } }[];
  };
  const out: Record<string, number> = {};
  for (const item of doc.nftables) if (item.counter) out[item.counter.name] = item.counter.packets;
  return out;
}

/** What the pod's server answers: the peer address it saw. */
async function peerSeenByPod(ns: string, timeoutS = 5): Promise<string> {
  const target = `TCP:192.168.71.1:${NODE_PORT},connect-timeout=${timeoutS}`;
  return (await nsRun(ns, 'socat', ['-t', '3', '-T', '5', '-', target])).trim();
}

/** The same over UDP: one datagram to the NodePort, the pod's answer ('' when none came). */
async function peerSeenByPodUdp(ns: string): Promise<string> {
  const args = ['netns', 'exec', ns, 'socat', '-t', '2', '-T', '2', '-', `UDP:192.168.71.1:${NODE_PORT}`];
  return (await run('ip', args, 'x\n')).trim();
}

describe('node-IP-sourced traffic over VXLAN (namespaces)', { timeout: 120_000 }, () => {
  const set = new NetnsSet('wtvxs');
  const config = testConfig('auto');
  let t: Topology;
  let pod: string;
  let server: ChildProcess | undefined;
  let udpServer: ChildProcess | undefined;
  const syncN1 = () => t.n1.datapath.sync(t.n1.self, [t.n3.self], config);

  before(async () => {
    await set.cleanup();
    t = await buildTopology(set);
    pod = await set.create('pod');
    await t.n1.datapath.sync(t.n1.self, [t.n3.self], config);
    await t.n3.datapath.sync(t.n3.self, [t.n1.self], config);
    await addVethPair(t.n3.ns, 'vpod', pod, 'eth0');
    await nsIpBatch(t.n3.ns, ['link set vpod mtu 1450', 'link set vpod master weft0']);
    await nsIpBatch(pod, [
      'link set eth0 mtu 1450',
      `addr add ${POD_IP}/24 dev eth0`,
      'route add default via 10.244.3.1',
    ]);
    for (const ns of [t.n1.ns, t.n3.ns]) {
      await nsRun(ns, 'sysctl', [
        '-q',
        '-w',
        'net.ipv4.conf.all.rp_filter=1',
        'net.ipv4.conf.eth0.rp_filter=1',
      ]);
    }
    await run('ip', ['netns', 'exec', t.n1.ns, 'nft', '-f', '-'], KUBE_PROXY_LIKE);
    server = spawn('ip', [
      'netns',
      'exec',
      pod,
      'socat',
      'TCP-LISTEN:8080,fork,reuseaddr',
      'SYSTEM:echo $SOCAT_PEERADDR',
    ]);
    udpServer = spawn('ip', [
      'netns',
      'exec',
      pod,
      'socat',
      'UDP-RECVFROM:8081,fork',
      'SYSTEM:echo $SOCAT_PEERADDR',
    ]);
    // Wait until the server listens.
    for (let i = 0; i < 50; i++) {
      if ((await nsRun(pod, 'ss', ['-Htln', 'sport', '= :8080'])).trim() !== '') break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  after(async () => {
    server?.kill();
    udpServer?.kill();
    await set.cleanup();
  });

  it('the pod sees the node IP, and the replies return through the tunnel under strict rp_filter', async () => {
    assert.equal(await peerSeenByPod(t.n1.ns), '192.168.71.1');
    const seen = await counters(t.n1.ns);
    assert.ok((seen.tunnel ?? 0) > 0, `replies through the tunnel: ${JSON.stringify(seen)}`);
    assert.equal(seen.underlay, 0, 'no pod-sourced packet on the underlay');
    assert.equal(seen.masq_other, 0, 'the masquerade mark followed the packet into the tunnel');
    assert.equal((await nsRun(t.n3.ns, 'sysctl', ['-n', 'net/ipv4/conf/weft.vxlan/rp_filter'])).trim(), '2');
    assert.equal((await nsRun(t.n3.ns, 'sysctl', ['-n', 'net.ipv4.conf.eth0.rp_filter'])).trim(), '1');
    assert.deepEqual(
      (await routes87(t.n3.ns)).map((r) => [r.dst, r.gateway, r.protocol]),
      [['192.168.71.1', '10.244.1.0', '87']],
    );
  });

  it('over UDP too: the mark does not follow the datagram into the VXLAN header', async () => {
    assert.equal(await peerSeenByPodUdp(t.n1.ns), '192.168.71.1');
    const seen = await counters(t.n1.ns);
    assert.equal(seen.masq_other, 0, 'the VXLAN packet was masqueraded');
    assert.equal(seen.underlay, 0, 'no pod-sourced packet on the underlay');
  });

  it('without the identity SNAT the pod would see the VTEP address; a resync puts it back', async () => {
    await nsRun(t.n1.ns, 'nft', ['flush', 'chain', 'inet', 'weft', 'node-snat']);
    assert.equal(await peerSeenByPod(t.n1.ns), '10.244.1.0');
    await syncN1();
    assert.deepEqual(opsOf(t.n1.datapath), ['nft-replace']);
    assert.equal(await peerSeenByPod(t.n1.ns), '192.168.71.1');
  });

  it('without the fwmark rule the replies take the underlay, where strict rp_filter drops them', async () => {
    const before = (await counters(t.n1.ns)).underlay ?? 0;
    await nsIpBatch(t.n3.ns, ['rule del pref 1087']);
    await assert.rejects(peerSeenByPod(t.n1.ns, 2));
    assert.ok(((await counters(t.n1.ns)).underlay ?? 0) > before, 'pod-sourced replies on the underlay');
    await t.n3.datapath.sync(t.n3.self, [t.n1.self], config);
    assert.deepEqual(opsOf(t.n3.datapath), ['rule-add']);
    assert.equal(await peerSeenByPod(t.n1.ns), '192.168.71.1');
  });

  it('plans nothing for a restarted agent; repairs a deleted rule and table-87 route; owns only its own', async () => {
    const restarted = new Datapath({ netlink: t.n3.netlink, registry: new Registry(), log: silentLogger() });
    await restarted.sync(t.n3.self, [t.n1.self], config);
    assert.deepEqual(restarted.lastPlan, []);
    await nsIpBatch(t.n3.ns, [
      'rule del pref 1087',
      'route del 192.168.71.1/32 table 87',
      'route add 192.168.99.9/32 via 10.244.1.0 dev weft.vxlan onlink table 87 proto 87',
      'route add 192.168.99.8/32 via 10.244.1.0 dev weft.vxlan onlink table 87 proto static',
    ]);
    await restarted.sync(t.n3.self, [t.n1.self], config);
    assert.deepEqual(opsOf(restarted).sort(), ['route-add', 'route-del', 'rule-add']);
    assert.deepEqual(
      (await rules87(t.n3.ns)).map((r) => [r.priority, r.iif, r.fwmark, r.protocol]),
      [[1087, 'weft0', '0x1000', '87']],
    );
    assert.deepEqual((await routes87(t.n3.ns)).map((r) => [r.dst, r.protocol]).sort(), [
      ['192.168.71.1', '87'],
      ['192.168.99.8', 'static'],
    ]);
    assert.equal(await peerSeenByPod(t.n1.ns), '192.168.71.1');
    await nsIpBatch(t.n3.ns, ['route del 192.168.99.8/32 table 87']);
  });

  it('uninstall removes the rule and the table-87 routes, and a second uninstall finds nothing', async () => {
    for (let i = 0; i < 2; i++) await t.n3.datapath.uninstall(config);
    assert.deepEqual(await rules87(t.n3.ns), []);
    assert.deepEqual(await routes87(t.n3.ns), []);
    await t.n3.datapath.sync(t.n3.self, [t.n1.self], config);
    assert.deepEqual((await rules87(t.n3.ns)).length, 1);
  });
});
