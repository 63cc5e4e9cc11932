import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { SyncResult } from '../datapath/types.js';
import type { MeshView } from '../gossip/options.js';
import { sampleRecord } from '../gossip/test-fixtures.js';
import { parseCliArgs, runCli } from './cli.js';
import { statusHandler } from './handler.js';
import { renderStatus } from './render.js';
import { computeStatus, type StatusJson } from './status.js';

const NOW = Date.parse('2025-01-01T00:00:00Z');
const mesh: MeshView = {
  self: sampleRecord({ name: 'node-a', incarnation: '00lx00000-0000000a', mtu: 1450 }),
  peers: [
    {
      name: 'node-b',
      state: 'alive',
      record: sampleRecord({ name: 'node-b', underlayIP: '10.0.0.2', incarnation: '00lx00001-0000000b' }),
      lastSeenAt: NOW - 1500,
      rttMs: 0.42,
    },
    {
      name: 'node-c',
      state: 'dead',
      record: sampleRecord({ name: 'node-c', underlayIP: '10.0.1.3' }),
      lastSeenAt: NOW - 300_000,
      rttMs: null,
    },
  ],
};
const sync: SyncResult = {
  changes: 0,
  peerRoutes: new Map([
    ['node-b', 'direct'],
    ['node-c', 'vxlan'],
    ['node-d', 'vxlan'],
  ]),
  mtu: 1450,
  underlayInterface: 'eth0',
};
const local = {
  nodeName: 'node-a',
  podCIDRs: ['10.244.1.0/24'],
  clusterCIDRs: ['10.244.0.0/16'],
  bridge: 'weft0',
  mtu: 1450,
};

const EXPECTED_TEXT = `Node:     node-a
Backend:  auto   MTU: 1450   Underlay: 10.0.0.1 (eth0)
PodCIDRs: 10.244.1.0/24
IPAM:     3/254 addresses in use

Peers: 3 (1 alive, 1 dead, 1 unknown)
NAME    STATE    ROUTE   UNDERLAY  LAST SEEN  RTT
node-b  alive    direct  10.0.0.2  2s ago     0.42ms
node-c  dead     vxlan   10.0.1.3  5m ago     -
node-d  unknown  vxlan   -         -          -
`;

describe('status', () => {
  it('computes the status document from mesh, datapath, local network and IPAM', () => {
    const s = computeStatus({
      nodeName: 'node-a',
      mesh,
      sync,
      local,
      ipam: { allocated: 3, capacity: 254 },
      nowMs: NOW,
    });
    assert.deepEqual(s.node, {
      name: 'node-a',
      backend: 'auto',
      mtu: 1450,
      underlayIP: '10.0.0.1',
      underlayInterface: 'eth0',
      podCIDRs: ['10.244.1.0/24'],
      ready: true,
      bootId: '00lx00000-0000000a',
      agentVersion: '0.1.0',
    });
    assert.deepEqual(s.peers[0], {
      name: 'node-b',
      state: 'alive',
      route: 'direct',
      underlayIP: '10.0.0.2',
      lastSeenAgoMs: 1500,
      rttMs: 0.42,
      bootId: '00lx00001-0000000b',
    });
    assert.equal(s.peers[2]?.state, 'unknown');
    assert.deepEqual(s.ipam, { allocated: 3, capacity: 254 });
  });

  it('leaves IPAM out when it has not reported, and copes with nothing at all', () => {
    const s = computeStatus({
      nodeName: 'x',
      mesh: undefined,
      sync: undefined,
      local: undefined,
      ipam: undefined,
      nowMs: NOW,
    });
    assert.equal('ipam' in s, false);
    assert.deepEqual(s.peers, []);
    assert.equal(
      renderStatus(s),
      'Node:     x (not ready)\nBackend:  -   MTU: -   Underlay: -\nPodCIDRs: -\n\nPeers: 0\n',
    );
  });

  it('parses CLI arguments', () => {
    assert.deepEqual(parseCliArgs(['status']), { json: false, addr: 'http://127.0.0.1:9742' });
    assert.deepEqual(parseCliArgs(['status', '--json', '--addr', '10.0.0.1:9742/']), {
      json: true,
      addr: 'http://10.0.0.1:9742',
    });
    assert.throws(() => parseCliArgs(['stats']), /usage/);
    assert.throws(() => parseCliArgs(['status', '--bogus']), /usage/);
  });

  describe('weft status against a served /api/v1/status', () => {
    let server: Server;
    let addr: string;
    before(async () => {
      const handler = statusHandler({
        nodeName: 'node-a',
        mesh: () => mesh,
        sync: () => sync,
        localNetwork: () => local,
        ipam: () => ({ allocated: 3, capacity: 254 }),
        now: () => NOW,
      });
      server = createServer((req, res) => {
        if (req.url === '/api/v1/status') handler(req, res);
        else res.writeHead(404).end();
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      addr = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((r) => server.close(() => r())));

    it('prints the text table', async () => {
      let out = '';
      const code = await runCli(['status', '--addr', addr], {}, (s) => {
        out += s;
      });
      assert.equal(code, 0);
      assert.equal(out, EXPECTED_TEXT);
    });

    it('prints JSON with --json', async () => {
      let out = '';
      assert.equal(await runCli(['status', '--json', '--addr', addr], {}, (s) => (out += s)), 0);
      const s = JSON.parse(out) as StatusJson;
      assert.equal(s.node.name, 'node-a');
      assert.deepEqual(
        s.peers.map((p) => [p.name, p.state, p.route, p.rttMs]),
        [
          ['node-b', 'alive', 'direct', 0.42],
          ['node-c', 'dead', 'vxlan', null],
          ['node-d', 'unknown', 'vxlan', null],
        ],
      );
      assert.equal(s.generatedAt, '2025-01-01T00:00:00.000Z');
    });

    it('fails with exit code 1 when the agent is unreachable', async () => {
      const code = await runCli(['status', '--addr', 'http://127.0.0.1:1'], {}, () => undefined);
      assert.equal(code, 1);
    });
  });
});
