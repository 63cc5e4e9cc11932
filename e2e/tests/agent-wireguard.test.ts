/**
 * Encrypted pod traffic (issue 16, ADR 16) between real agents in a local cluster: node1 and
 * node2 on subnet A, node3 on subnet B, `backend: wireguard`, gossip with a cluster key (the
 * public keys travel in the gossip records), userspace WireGuard (wireguard-go; this kernel has
 * no module). Pods made through the installed conflist reach each other across nodes; a capture
 * on the underlay sees only WireGuard UDP between the nodes; a node whose key file is removed is
 * reachable again within seconds of its agent's restart; a sender with a key no node published
 * gets nothing through; --uninstall removes weft.wg and the key.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { StatusJson } from '../../agent/src/status/status.js';
import { desiredWireguard } from '../../agent/src/wireguard/desired.js';
import { detectWireguard } from '../../agent/src/wireguard/detect.js';
import { WireguardDevice } from '../../agent/src/wireguard/device.js';
import { WireguardKeyPair } from '../../agent/src/wireguard/keys.js';
import { captureOn } from '../../agent/test/ns/capture.js';
import { requireHostTools } from '../../scripts/host-tools.js';
import { type Cluster, type ClusterNode, startCluster } from '../cluster/index.js';
import { addPod, CONFLIST_NAME, deletePod, type Pod, podPingMatrix } from '../cluster/pods.js';
import { resolveWireguardGo } from '../wireguard/wireguard-go.js';
import {
  AGENT_MAIN,
  type AgentRun,
  agentGet,
  metricValue,
  NODE_BIN,
  prepareAgentCredentials,
  routes,
  startAgent,
  stopAll,
  uninstallEnv,
  waitAgentReady,
  waitFor,
  writeNetConf,
} from './fixtures/agent-cluster.js';
import { runWeftStatus, writeGossipKey } from './fixtures/gossip-cluster.js';

const WG_PORT = 51820;
/** A payload pattern for ping: found in a capture only if the packet crossed in clear. */
const PATTERN = 'deadbeefcafef00d';

describe('WireGuard between agents in a local cluster', { timeout: 420_000 }, () => {
  let cluster: Cluster;
  let kubeconfig: string;
  let conf: string;
  let keyFile: string;
  let wireguardGo: string;
  let cidrs: Map<string, string[]>;
  const runs = new Map<string, AgentRun>();
  const pods = new Map<string, Pod>();
  const node = (i: number) => cluster.nodes[i - 1] as ClusterNode;
  const podOf = (n: ClusterNode) => pods.get(n.name) as Pod;
  const scratch = () => join(cluster.runDir, 'wireguard-e2e');

  function start(n: ClusterNode, args: string[] = []): AgentRun {
    const run = startAgent(cluster, n, {
      netConf: conf,
      kubeconfig,
      args,
      env: {
        WEFT_GOSSIP_KEY_FILE: keyFile,
        WEFT_WIREGUARD_GO: wireguardGo,
        // One /run per node for wg and wireguard-go: their UAPI socket is a path, not per netns.
        WEFT_WIREGUARD_RUN_DIR: join(cluster.runDir, 'wgrun', n.name),
      },
    });
    if (args.length === 0) runs.set(n.name, run);
    return run;
  }

  const statusOf = async (n: ClusterNode) => JSON.parse(await runWeftStatus(cluster, n, true)) as StatusJson;

  /** Until every agent has both peers on weft.wg with a completed handshake. */
  async function waitHandshakes(): Promise<Map<string, StatusJson>> {
    const all = new Map<string, StatusJson>();
    for (const n of cluster.nodes) {
      all.set(
        n.name,
        await waitFor(
          `${n.name}: two WireGuard peers with a handshake`,
          async () => {
            const s = await statusOf(n);
            const peers = s.wireguard?.peers ?? [];
            return peers.length === 2 && peers.every((p) => p.handshakeAgoS !== null) ? s : undefined;
          },
          30_000,
          200,
        ),
      );
    }
    return all;
  }

  async function pingWithPattern(from: Pod, ip: string): Promise<boolean> {
    const argv = ['ping', '-c', '3', '-i', '0.2', '-W', '1', '-q', '-p', PATTERN, ip];
    return (await cluster.execInNode(from.netns, argv)).code === 0;
  }

  before(async () => {
    // Fails loudly, never skips: the tools are in scripts/host-tools.txt, wireguard-go is built.
    requireHostTools(['ip', 'wg', 'tcpdump', 'nsenter', 'unshare', 'mount', 'ping']);
    wireguardGo = await resolveWireguardGo();
    cluster = await startCluster({ name: 'agwg', nodes: 3, subnets: 2 });
    cidrs = await cluster.waitForPodCIDRs();
    kubeconfig = await prepareAgentCredentials(cluster);
    keyFile = writeGossipKey(cluster);
    conf = writeNetConf(cluster, 'wireguard', {
      network: '10.244.0.0/16',
      backend: { type: 'wireguard' },
      resyncSeconds: 1,
    });
    for (const n of cluster.nodes) start(n);
    await Promise.all(cluster.nodes.map((n) => waitAgentReady(cluster, n, 60_000)));
    for (const n of cluster.nodes) {
      await waitFor(`${n.name} conflist`, () => existsSync(join(n.dirs.cniConf, CONFLIST_NAME)), 60_000);
      pods.set(n.name, await addPod(n, 'wg'));
    }
  });

  after(async () => {
    await Promise.all([...pods.values()].map((p) => deletePod(p).catch(() => undefined)));
    // The agents' process groups hold their wireguard-go: stopping them ends it.
    await stopAll(runs.values());
    await cluster?.stop({ keepLogs: process.env.WEFT_E2E_KEEP_LOGS === '1' });
  });

  it('every agent runs userspace WireGuard: peers with handshakes, routes through weft.wg, metrics', async () => {
    const all = await waitHandshakes();
    for (const [name, s] of all) {
      assert.equal(s.node.backend, 'wireguard');
      assert.equal(s.wireguard?.implementation, 'userspace', `${name}: ${s.wireguard?.detail}`);
      assert.match(s.wireguard?.detail ?? '', /^wireguard-go v/);
      assert.equal(s.wireguard?.listenPort, WG_PORT);
      assert.deepEqual(s.wireguard?.skipped, []);
      assert.equal(s.node.mtu, 1440, 'pod MTU = underlay 1500 − 60');
      for (const p of s.peers) assert.equal(p.route, 'wireguard', `${name} → ${p.name}`);
    }
    const keys = new Set([...all.values()].map((s) => s.wireguard?.publicKey));
    assert.equal(keys.size, 3, 'one key per node');
    const table = await routes(cluster, node(1));
    for (const peer of [node(2), node(3)]) {
      const r = table.find((x) => x.dst === cidrs.get(peer.name)?.[0]);
      assert.equal(r?.dev, 'weft.wg', JSON.stringify(r));
    }
    assert.equal(table.find((x) => x.dst === '10.244.0.0/16')?.dev, 'weft.wg', 'the cluster route');
    const metrics = (await agentGet(cluster, node(1), '/metrics')).body;
    assert.equal(metricValue(metrics, 'weft_wireguard_implementation', '{implementation="userspace"}'), 1);
    assert.equal(metricValue(metrics, 'weft_wireguard_implementation', '{implementation="kernel"}'), 0);
    assert.equal(metricValue(metrics, 'weft_wireguard_peers'), 2);
    assert.equal(metricValue(metrics, 'weft_routes', '{backend="wireguard",family="ipv4"}'), 2);
    const text = await runWeftStatus(cluster, node(1), false);
    assert.match(text, /WireGuard: userspace \(wireguard-go v\S+\)\s+weft\.wg :51820/);
  });

  it('every pod reaches every other pod, on the same subnet and across', async () => {
    const matrix = await podPingMatrix(cluster, [...pods.values()]);
    assert.equal(matrix.length, 6);
    assert.deepEqual(
      matrix.filter((m) => !m.ok),
      [],
    );
  });

  it('the underlay carries only WireGuard UDP between the nodes: no pod address, no payload in clear', async () => {
    const [n1, n3] = [node(1), node(3)];
    // Gossip (TCP 9743) is the agents' own control traffic, authenticated but not part of the tunnel.
    const { raw, text } = await captureOn(
      n1.netns,
      'eth0',
      scratch(),
      async () => {
        assert.ok(await pingWithPattern(podOf(n1), podOf(n3).ip), 'node1 pod → node3 pod');
        assert.ok(await pingWithPattern(podOf(n3), podOf(n1).ip), 'node3 pod → node1 pod');
      },
      `host ${n3.ip} and not tcp port 9743`,
    );
    const packets = text.trim().split('\n');
    assert.ok(packets.length >= 12, `captured ${packets.length} packets:\n${text}`);
    const ip = (s: string) => s.replaceAll('.', '\\.');
    const tunnel = new RegExp(
      `IP (${ip(n1.ip)}\\.${WG_PORT} > ${ip(n3.ip)}|${ip(n3.ip)}\\.${WG_PORT} > ${ip(n1.ip)})\\.${WG_PORT}: UDP`,
    );
    for (const p of packets) assert.match(p, tunnel);
    for (const pod of [podOf(n1), podOf(n3)]) {
      const bytes = Buffer.from(pod.ip.split('.').map(Number));
      assert.equal(raw.indexOf(bytes), -1, `pod address ${pod.ip} in clear on the underlay`);
    }
    assert.equal(raw.indexOf(Buffer.from(PATTERN, 'hex')), -1, 'ping payload in clear on the underlay');
  });

  it('a node whose key changes (key file removed, agent restarted) is reachable again within seconds', async (t) => {
    const n3 = node(3);
    const before = (await statusOf(n3)).wireguard?.publicKey;
    await runs.get(n3.name)?.proc.stop('SIGTERM', 10_000);
    // The agent and its wireguard-go are gone, weft.wg and its routes with them: the clear-guard
    // chain (still in the kernel) keeps node3's pod traffic from leaving by the default route.
    const gone = await cluster.execInNode(n3, ['ip', 'link', 'show', 'weft.wg']);
    assert.notEqual(gone.code, 0, 'weft.wg went with wireguard-go');
    const { raw } = await captureOn(n3.netns, 'eth0', scratch(), async () => {
      assert.equal(await pingWithPattern(podOf(n3), podOf(node(1)).ip), false, 'no tunnel, no answer');
    });
    assert.equal(
      raw.indexOf(Buffer.from(PATTERN, 'hex')),
      -1,
      'pod traffic left in clear while the agent was down',
    );
    rmSync(join(n3.dirs.state, 'wireguard.key'));
    const t0 = Date.now();
    start(n3);
    await waitAgentReady(cluster, n3, 30_000);
    const readyS = (Date.now() - t0) / 1000;
    await waitFor(
      'node1 pod → node3 pod again',
      () => pingWithPattern(podOf(node(1)), podOf(n3).ip),
      30_000,
      0,
    );
    const reachableS = (Date.now() - t0) / 1000;
    const after = (await statusOf(n3)).wireguard?.publicKey;
    t.diagnostic(
      `agent ready ${readyS.toFixed(1)} s, node3 pod reachable ${reachableS.toFixed(1)} s after the restart`,
    );
    assert.ok(after !== undefined && after !== before, 'a new key pair');
    await waitFor(
      'node1 holds node3’s new key',
      async () => (await statusOf(node(1))).wireguard?.peers.some((p) => p.publicKey === after),
      10_000,
    );
    assert.ok(reachableS < 15, `reachable again after ${reachableS} s`);
    await waitHandshakes();
  });

  it('SIGHUP rotates the key on the live device: a 50 ms ping stream loses at most 3 s of echoes', async (t) => {
    const n3 = node(3);
    const run = runs.get(n3.name);
    assert.ok(run);
    const before = (await statusOf(n3)).wireguard?.publicKey;
    // 160 echo requests 50 ms apart (8 s); the key changes after 2 s.
    const stream = cluster.execInNode(
      podOf(node(1)).netns,
      ['ping', '-n', '-i', '0.05', '-c', '160', '-W', '1', podOf(n3).ip],
      {
        timeoutMs: 30_000,
      },
    );
    await new Promise((r) => setTimeout(r, 2000));
    process.kill(run.proc.pid, 'SIGHUP');
    const out = (await stream).stdout;
    const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
    assert.ok(m, out);
    const lost = Number(m[1]) - Number(m[2]);
    const after = (await statusOf(n3)).wireguard?.publicKey;
    t.diagnostic(
      `rotation by SIGHUP: ${lost} of ${m[1]} echo requests lost (≈ ${lost * 50} ms without traffic)`,
    );
    assert.ok(after !== undefined && after !== before, 'a new key on the running agent');
    await waitFor(
      'node1 holds node3’s rotated key (and its old one no more)',
      async () => {
        const keys = (await statusOf(node(1))).wireguard?.peers.map((p) => p.publicKey) ?? [];
        return keys.includes(after as string) && !keys.includes(before as string);
      },
      10_000,
    );
    const rtt = /rtt min\/avg\/max\/mdev = [\d.]+\/[\d.]+\/([\d.]+)/.exec(out)?.[1];
    t.diagnostic(
      `longest echo round trip during the run: ${rtt} ms (packets held while the new handshake ran)`,
    );
    assert.ok(lost * 50 <= 3000, `${lost} echo requests lost`);
    assert.ok(Number(m[2]) > 0 && /icmp_seq=1(5\d) /.test(out), 'echoes came back after the rotation');
  });

  it('a sender with a key no node published gets nothing through', async () => {
    const ext = cluster.external.netns;
    const runDir = join(scratch(), 'attacker-run');
    mkdirSync(runDir, { recursive: true });
    const impl = await detectWireguard({ wireguardGo, preferUserspace: true });
    const device = new WireguardDevice({ device: 'wt.forged', implementation: impl, netns: ext, runDir });
    const forged = WireguardKeyPair.generate();
    const n1 = node(1);
    const target = (await statusOf(n1)).wireguard?.publicKey as string;
    try {
      // It claims an address of node3's podCIDR and sends to node1's device with node1's real key.
      const { desired } = desiredWireguard({
        device: 'wt.forged',
        listenPort: WG_PORT,
        underlayMtu: 1500,
        underlayFamily: 4,
        addresses: ['10.244.3.250/32'],
        publicKey: forged.publicKey,
        peers: [{ name: n1.name, underlayIP: n1.ip, allowedIPs: ['10.244.0.0/16'], publicKey: target }],
      });
      await device.sync(desired, forged);
      const add = await cluster.execInNode(ext, ['ip', 'route', 'add', '10.244.0.0/16', 'dev', 'wt.forged']);
      assert.equal(add.code, 0, add.stderr);
      const ping = await cluster.execInNode(ext, [
        'ping',
        '-c',
        '3',
        '-i',
        '0.3',
        '-W',
        '1',
        '-q',
        podOf(n1).ip,
      ]);
      assert.notEqual(ping.code, 0, 'a pod answered a sender with an unpublished key');
      const seen = await device.observe();
      assert.equal(seen.config?.peers[0]?.latestHandshake, 0, 'node1 never completed a handshake with it');
      const s1 = await statusOf(n1);
      assert.ok(!s1.wireguard?.peers.some((p) => p.publicKey === forged.publicKey));
    } finally {
      await device.uninstall().catch(() => undefined);
      device.close();
    }
  });

  it('auto + encryption crossSubnet: the same-subnet peer direct, the other through weft.wg', async () => {
    await stopAll(runs.values());
    conf = writeNetConf(cluster, 'crosssubnet', {
      network: '10.244.0.0/16',
      encryption: { type: 'wireguard', peers: 'crossSubnet' },
      resyncSeconds: 1,
    });
    for (const n of cluster.nodes) start(n);
    await Promise.all(cluster.nodes.map((n) => waitAgentReady(cluster, n, 60_000)));
    const s1 = await waitFor(
      'node1: node3 through weft.wg with a handshake',
      async () => {
        const s = await statusOf(node(1));
        return s.wireguard?.peers.length === 1 && s.wireguard.peers[0]?.handshakeAgoS !== null
          ? s
          : undefined;
      },
      30_000,
      200,
    );
    assert.deepEqual(
      s1.peers.map((p) => [p.name, p.route]),
      [
        [node(2).name, 'direct'],
        [node(3).name, 'wireguard'],
      ],
    );
    const table = await routes(cluster, node(1));
    assert.equal(table.find((r) => r.dst === cidrs.get(node(2).name)?.[0])?.gateway, node(2).ip);
    assert.equal(table.find((r) => r.dst === cidrs.get(node(3).name)?.[0])?.dev, 'weft.wg');
    const matrix = await podPingMatrix(cluster, [...pods.values()]);
    assert.deepEqual(
      matrix.filter((m) => !m.ok),
      [],
    );
  });

  it('--uninstall removes weft.wg, its wireguard-go and the key', async () => {
    const n2 = node(2);
    await deletePod(podOf(n2));
    pods.delete(n2.name);
    const before = wireguardGoIn(n2.netns);
    assert.equal(before.length, 1, 'one wireguard-go in node2');
    await runs.get(n2.name)?.proc.stop('SIGTERM', 10_000);
    runs.delete(n2.name);
    const env = uninstallEnv(n2, conf);
    for (const round of [1, 2]) {
      const r = await cluster.execInNode(n2, [NODE_BIN, AGENT_MAIN, '--uninstall'], {
        env,
        timeoutMs: 30_000,
      });
      assert.equal(r.code, 0, `round ${round}: ${r.stderr}`);
      const link = await cluster.execInNode(n2, ['ip', 'link', 'show', 'weft.wg']);
      assert.notEqual(link.code, 0, 'weft.wg is gone');
      assert.equal(existsSync(join(n2.dirs.state, 'wireguard.key')), false, 'the key file is gone');
      assert.deepEqual(wireguardGoIn(n2.netns), [], 'no wireguard-go left in node2');
    }
  });
});

/** Pids of wireguard-go processes in the named network namespace. */
function wireguardGoIn(netns: string): number[] {
  const want = `net:[${statSync(`/run/netns/${netns}`).ino}]`;
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        return (
          readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('wireguard-go') &&
          readlinkSync(`/proc/${pid}/ns/net`) === want
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}
