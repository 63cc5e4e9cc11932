/**
 * Weft with `backend: wireguard` on real nodes (kubelet + containerd + kube-proxy, CoreDNS),
 * installed from the chart with `network.backend.type=wireguard`: the image's wg and
 * wireguard-go (userspace: this kernel has no WireGuard module) make `weft.wg` in every agent
 * container; the connectivity checks (pod↔pod without NAT, ClusterIP, DNS, headless, hostPort,
 * NodePort, egress) pass through it, and a capture on a node's underlay during pod↔pod HTTP
 * sees only WireGuard UDP to the other node, no pod address and no payload in clear.
 *
 * Needs the image built by scripts/image.sh and the node images (e2e/images/build.sh);
 * scripts/test.sh includes this file only then.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { captureOn } from '../../agent/test/ns/capture.js';
import { createLogger } from '../../common/log.js';
import { CHECKS_NAMESPACE, parseNodeIps, parsePods, runConnectivityChecks } from '../checks/connectivity.js';
import { type EchoServer, startEchoServer } from '../cluster/echo-server.js';
import { type Cluster, destroyCluster, startCluster } from '../cluster/index.js';
import {
  applyCheckWorkloads,
  installChartAndDns,
  listAgents,
  waitForCheckWorkloads,
  weftStatusIn,
} from '../realnode/addons.js';

const NAME = 'rnwg';
const EXTERNAL_PORT = 8091;
const PATTERN = 'weft-wireguard-payload-7f3a9c';

describe('Weft with WireGuard on real nodes', { timeout: 1_200_000 }, () => {
  let cluster: Cluster;
  let external: EchoServer | undefined;
  const log = createLogger('e2e-realnodes-wg', process.env.WEFT_E2E_LOG ?? 'warn');
  const kubectl = (args: string[]) => cluster.kubectl(args, { timeoutMs: 30_000 });

  before(async () => {
    await destroyCluster(NAME);
    cluster = await startCluster({ name: NAME, nodes: 3, subnets: 2, kubelet: true }, log);
    await cluster.waitForPodCIDRs(180_000);
  });

  after(async () => {
    await external?.stop();
    await cluster?.stop({ keepLogs: process.env.WEFT_E2E_KEEP_LOGS === '1' });
  });

  it('the chart with network.backend.type=wireguard brings every node up, then CoreDNS', async () => {
    await installChartAndDns(cluster, ['network.backend.type=wireguard']);
  });

  it('every agent runs userspace WireGuard with a handshake to both peers', async () => {
    const agents = await listAgents(cluster);
    assert.equal(agents.length, 3);
    for (const a of agents) {
      const deadline = Date.now() + 60_000;
      let status: { wireguard?: { implementation: string; peers: { handshakeAgoS: number | null }[] } } = {};
      while (Date.now() < deadline) {
        status = await weftStatusIn<typeof status>(cluster, a.name);
        const peers = status.wireguard?.peers ?? [];
        if (peers.length === 2 && peers.every((p) => p.handshakeAgoS !== null)) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      assert.equal(
        status.wireguard?.implementation,
        'userspace',
        `${a.node}: ${JSON.stringify(status.wireguard)}`,
      );
      assert.equal(status.wireguard?.peers.filter((p) => p.handshakeAgoS !== null).length, 2, a.node);
    }
  });

  it('the connectivity checks pass through weft.wg: pod↔pod (no NAT), ClusterIP, DNS, headless, hostPort, NodePort, egress', async () => {
    external = await startEchoServer(cluster.external.netns, EXTERNAL_PORT);
    await applyCheckWorkloads(cluster);
    await waitForCheckWorkloads(cluster, 300);
    const nodeIps = parseNodeIps(await kubectl(['get', 'nodes', '-o', 'json']));
    const results = await runConnectivityChecks(kubectl, {
      nodeIps,
      externalUrl: `http://${cluster.external.ip}:${EXTERNAL_PORT}/`,
    });
    const failed = results.filter((r) => !r.ok);
    assert.deepEqual(
      failed,
      [],
      results.map((r) => `${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.detail}`).join('\n'),
    );
  });

  it('pod↔pod HTTP across subnets crosses the underlay as WireGuard UDP only', async () => {
    const pods = (app: string) =>
      kubectl(['-n', CHECKS_NAMESPACE, 'get', 'pods', '-l', `app=${app}`, '-o', 'json']).then(parsePods);
    const [n1, n3] = [cluster.nodes[0], cluster.nodes[2]];
    assert.ok(n1 && n3);
    const client = (await pods('client')).find((p) => p.node === n1.name);
    const server = (await pods('echo')).find((p) => p.node === n3.name);
    assert.ok(client && server, 'a client on node1 and an echo server on node3');
    let answer = '';
    const { raw, text } = await captureOn(
      n1.netns,
      'eth0',
      join(cluster.runDir, 'capture'),
      async () => {
        const url = `http://${server.ip}:8080/echo?msg=${PATTERN}`;
        answer = await kubectl([
          '-n',
          CHECKS_NAMESPACE,
          'exec',
          client.name,
          '--',
          'curl',
          '-sS',
          '-m',
          '5',
          url,
        ]);
      },
      `host ${n3.ip} and not tcp port 9743`,
    );
    assert.equal(answer.trim(), PATTERN, 'the echo came back');
    const packets = text.trim().split('\n').filter(Boolean);
    assert.ok(packets.length >= 4, `captured ${packets.length} packets:\n${text}`);
    for (const p of packets) assert.match(p, /\.51820 > .*\.51820: UDP/, p);
    for (const ip of [client.ip, server.ip]) {
      assert.equal(raw.indexOf(Buffer.from(ip.split('.').map(Number))), -1, `pod address ${ip} in clear`);
    }
    assert.equal(raw.indexOf(Buffer.from(PATTERN)), -1, 'HTTP payload in clear on the underlay');
  });
});
