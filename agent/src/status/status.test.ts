import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { SyncResult } from '../datapath/types.js';
import type { MeshView } from '../gossip/options.js';
import type { GossipPhase } from '../gossip/phase.js';
import { sampleRecord } from '../gossip/test-fixtures.js';
import { PeerStore } from '../peers/peer-store.js';
import { parseCliArgs, runCli } from './cli.js';
import { computeGossipStatus } from './gossip-status.js';
import { type StatusSource, statusHandler } from './handler.js';
import { renderStatus } from './render.js';
import { computeStatus, type StatusInputs, type StatusJson } from './status.js';

const NOW = Date.parse('2025-01-01T00:00:00Z');
const SECRET = 'weft-system/weft-gossip-key';
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
  peerRoutes6: new Map(),
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
const self = { name: 'node-a', underlayIP: '10.0.0.1', podCIDRs: ['10.244.1.0/24'] };

/** The API's view of a 4-node cluster, as the agent's PeerStore holds it. */
function apiStore(): PeerStore {
  const store = new PeerStore('node-a');
  store.replaceAll(
    [
      self,
      { name: 'node-b', underlayIP: '10.0.0.2', podCIDRs: ['10.244.2.0/24'] },
      { name: 'node-c', underlayIP: '10.0.1.3', podCIDRs: ['10.244.3.0/24'] },
      { name: 'node-d', underlayIP: '10.0.1.4', podCIDRs: ['10.244.4.0/24'] },
    ],
    'api',
  );
  return store;
}

const RUNNING: GossipPhase = { phase: 'running', port: 9743, insecure: false };
const NO_KEY: GossipPhase = {
  phase: 'no-key',
  keyFile: '/etc/weft/gossip/key',
  problem: 'missing',
  message: 'cannot read gossip key file /etc/weft/gossip/key: ENOENT: no such file or directory',
};

/** A ready agent with the API's view and a programmed datapath; `over` changes parts. */
function inputs(over: Partial<StatusInputs> = {}): StatusInputs {
  const store = apiStore();
  return {
    nodeName: 'node-a',
    backend: 'auto',
    agentVersion: '0.1.0',
    keySecret: SECRET,
    readiness: { ready: true, reason: null },
    cluster: store.view(),
    sourceOf: (name) => store.sourceOf(name),
    sync,
    programmedSelf: self,
    local,
    ipam: { allocated: 3, capacity: 254 },
    gossip: RUNNING,
    mesh,
    wireguard: undefined,
    nowMs: NOW,
    ...over,
  };
}

const TEXT_GOSSIP_ON = `Node:     node-a
Backend:  auto   MTU: 1450   Underlay: 10.0.0.1 (eth0)
PodCIDRs: 10.244.1.0/24
IPAM:     3/254 addresses in use
Gossip:   on — port 9743

Peers: 3 (1 alive, 1 dead, 1 unknown)
NAME    STATE    ROUTE   UNDERLAY  LAST SEEN  RTT
node-b  alive    direct  10.0.0.2  2s ago     0.42ms
node-c  dead     vxlan   10.0.1.3  5m ago     -
node-d  unknown  vxlan   10.0.1.4  -          -
`;

// The node: no gossip key Secret (no controller), routes programmed, /readyz ok.
const TEXT_GOSSIP_OFF = `Node:     node-a
Backend:  auto   MTU: 1450   Underlay: 10.0.0.1 (eth0)
PodCIDRs: 10.244.1.0/24
IPAM:     3/254 addresses in use
Gossip:   off — no key: /etc/weft/gossip/key not found (Secret weft-system/weft-gossip-key missing or not mounted yet; weft-controller creates it)

Peers: 3 (liveness unknown: gossip off)
NAME    STATE       ROUTE   UNDERLAY  LAST SEEN  RTT
node-b  gossip-off  direct  10.0.0.2  -          -
node-c  gossip-off  vxlan   10.0.1.3  -          -
node-d  gossip-off  vxlan   10.0.1.4  -          -
`;

describe('status', () => {
  it('node facts come from the agent (config, view, sync); gossip adds liveness', () => {
    const s = computeStatus(inputs());
    assert.deepEqual(s.node, {
      name: 'node-a',
      ready: true,
      notReadyReason: null,
      backend: 'auto',
      mtu: 1450,
      underlayIP: '10.0.0.1',
      underlayInterface: 'eth0',
      podCIDRs: ['10.244.1.0/24'],
      viewSource: 'api',
      bootId: '00lx00000-0000000a',
      agentVersion: '0.1.0',
    });
    assert.deepEqual(s.peers[0], {
      name: 'node-b',
      state: 'alive',
      route: 'direct',
      underlayIP: '10.0.0.2',
      podCIDRs: ['10.244.2.0/24'],
      source: 'api',
      lastSeenAgoMs: 1500,
      rttMs: 0.42,
      bootId: '00lx00001-0000000b',
    });
    assert.equal(s.peers[2]?.state, 'unknown', 'in the API view, not heard of by gossip');
    assert.deepEqual(s.gossip, {
      state: 'on',
      reason: null,
      detail: 'port 9743',
      port: 9743,
      insecure: false,
    });
    assert.deepEqual(s.ipam, { allocated: 3, capacity: 254 });
    assert.equal(renderStatus(s), TEXT_GOSSIP_ON);
  });

  it('gossip off (no key): the node is still ready with its backend and underlay; peers say gossip-off', () => {
    const s = computeStatus(inputs({ gossip: NO_KEY, mesh: undefined }));
    assert.equal(s.node.ready, true);
    assert.equal(s.node.backend, 'auto');
    assert.equal(s.node.underlayIP, '10.0.0.1');
    assert.equal(s.node.bootId, null);
    assert.deepEqual(
      s.peers.map((p) => [p.name, p.state, p.route, p.underlayIP, p.source]),
      [
        ['node-b', 'gossip-off', 'direct', '10.0.0.2', 'api'],
        ['node-c', 'gossip-off', 'vxlan', '10.0.1.3', 'api'],
        ['node-d', 'gossip-off', 'vxlan', '10.0.1.4', 'api'],
      ],
    );
    assert.equal(s.gossip.reason, 'no-key');
    assert.equal(renderStatus(s), TEXT_GOSSIP_OFF);
  });

  it('a mesh that is no longer running does not lend its liveness', () => {
    const s = computeStatus(inputs({ gossip: { phase: 'stopped' } }));
    assert.deepEqual(
      s.peers.map((p) => p.state),
      ['gossip-off', 'gossip-off', 'gossip-off'],
    );
    assert.equal(s.node.bootId, null);
  });

  it('before the first sync: not ready with the reason, underlay from the cluster view, cache named', () => {
    const store = new PeerStore('node-a');
    store.replaceAll([{ ...self, podCIDRs: [] }], 'cache');
    const s = computeStatus(
      inputs({
        readiness: { ready: false, reason: 'this node has no podCIDR yet' },
        cluster: store.view(),
        sourceOf: (n) => store.sourceOf(n),
        sync: undefined,
        programmedSelf: undefined,
        local: undefined,
        ipam: undefined,
        gossip: { phase: 'starting' },
        mesh: undefined,
      }),
    );
    assert.equal('ipam' in s, false);
    assert.deepEqual(s.peers, []);
    assert.equal(
      renderStatus(s),
      [
        'Node:     node-a (not ready: this node has no podCIDR yet)',
        'Backend:  auto   MTU: -   Underlay: 10.0.0.1',
        'PodCIDRs: -',
        'View:     from the disk cache (the API server has not answered since the agent started)',
        'Gossip:   off — starting',
        '',
        'Peers: 0',
        '',
      ].join('\n'),
    );
  });

  it('WireGuard: implementation, key, peers with their handshake age, peers left out', () => {
    const key = Buffer.alloc(32, 9).toString('base64');
    const s = computeStatus(
      inputs({
        backend: 'wireguard',
        wireguard: {
          device: 'weft.wg',
          implementation: 'userspace',
          detail: 'wireguard-go v0.0.20250522',
          publicKey: key,
          listenPort: 51820,
          peers: [
            {
              name: 'node-b',
              publicKey: key,
              endpoint: '10.0.0.2:51820',
              latestHandshake: NOW / 1000 - 7,
              rxBytes: 5,
              txBytes: 6,
            },
            {
              name: 'node-c',
              publicKey: key,
              endpoint: '10.0.1.3:51820',
              latestHandshake: 0,
              rxBytes: 0,
              txBytes: 0,
            },
          ],
          skipped: [{ peer: 'node-d', reason: 'no-key' }],
        },
      }),
    );
    assert.deepEqual(
      s.wireguard?.peers.map((p) => [p.name, p.handshakeAgoS]),
      [
        ['node-b', 7],
        ['node-c', null],
      ],
    );
    const text = renderStatus(s);
    assert.match(text, /WireGuard: userspace \(wireguard-go v0\.0\.20250522\)\s+weft\.wg :51820/);
    assert.match(text, /node-b {2}10\.0\.0\.2:51820 {2}handshake 7s ago/);
    assert.match(text, /node-d {2}left out: no-key \(not sent in clear\)/);
    assert.equal(computeStatus(inputs()).wireguard, undefined, 'absent without encryption');
  });

  it('a node only gossip knows is listed with its record and no view source', () => {
    const extra = {
      name: 'node-e',
      state: 'left' as const,
      record: sampleRecord({ name: 'node-e', underlayIP: '10.0.0.5', podCIDRs: ['10.244.5.0/24'] }),
      lastSeenAt: 0,
      rttMs: null,
    };
    const s = computeStatus(inputs({ mesh: { ...mesh, peers: [...mesh.peers, extra] } }));
    assert.deepEqual(s.peers.at(-1), {
      name: 'node-e',
      state: 'left',
      route: null,
      underlayIP: '10.0.0.5',
      podCIDRs: ['10.244.5.0/24'],
      source: null,
      lastSeenAgoMs: null,
      rttMs: null,
      bootId: '00lx00000-0000000a',
    });
  });

  it('IPv6-only: one underlay address, and a single-family peer table with the IPv6 route kinds', () => {
    const six = (n: number, name: string) => ({
      name,
      underlayIP: `fd00::${n}`,
      underlayIP6: `fd00::${n}`,
      podCIDRs: [`fd00:10:0:${n}::/64`],
    });
    const self6 = six(1, 'node-a');
    const store = new PeerStore('node-a', { families: [6], underlayFamily: 6 });
    store.replaceAll([self6, six(2, 'node-b'), six(3, 'node-c')], 'api');
    const record = (n: number, name: string) => sampleRecord(six(n, name));
    const s = computeStatus(
      inputs({
        cluster: store.view(),
        sourceOf: (n) => store.sourceOf(n),
        programmedSelf: self6,
        local: { ...local, podCIDRs: self6.podCIDRs, clusterCIDRs: ['fd00:10::/48'], mtu: 1430 },
        sync: {
          ...sync,
          mtu: 1430,
          peerRoutes: new Map(),
          peerRoutes6: new Map([
            ['node-b', 'direct'],
            ['node-c', 'vxlan'],
          ]),
        },
        mesh: {
          self: record(1, 'node-a'),
          peers: [
            {
              name: 'node-b',
              state: 'alive',
              record: record(2, 'node-b'),
              lastSeenAt: NOW - 1500,
              rttMs: 0.42,
            },
            {
              name: 'node-c',
              state: 'alive',
              record: record(3, 'node-c'),
              lastSeenAt: NOW - 800,
              rttMs: 1.5,
            },
          ],
        },
      }),
    );
    assert.deepEqual([s.node.underlayIP, s.node.underlayIP6], ['fd00::1', 'fd00::1']);
    assert.deepEqual(
      s.peers.map((p) => [p.name, p.route, p.route6, p.underlayIP, p.underlayIP6]),
      [
        ['node-b', null, 'direct', 'fd00::2', 'fd00::2'],
        ['node-c', null, 'vxlan', 'fd00::3', 'fd00::3'],
      ],
    );
    assert.equal(
      renderStatus(s),
      `Node:     node-a
Backend:  auto   MTU: 1430   Underlay: fd00::1 (eth0)
PodCIDRs: fd00:10:0:1::/64
IPAM:     3/254 addresses in use
Gossip:   on — port 9743

Peers: 2 (2 alive)
NAME    STATE  ROUTE   UNDERLAY  LAST SEEN  RTT
node-b  alive  direct  fd00::2   2s ago     0.42ms
node-c  alive  vxlan   fd00::3   800ms ago  1.50ms
`,
    );
  });

  it('dual-stack: the node’s IPv6 underlay and both podCIDRs, per peer the route kind of each family', () => {
    const self6 = { ...self, underlayIP6: 'fd00::1', podCIDRs: ['10.244.1.0/24', 'fd00:10:0:1::/64'] };
    const store = new PeerStore('node-a');
    store.replaceAll(
      [
        self6,
        {
          name: 'node-b',
          underlayIP: '10.0.0.2',
          underlayIP6: 'fd00::2',
          podCIDRs: ['10.244.2.0/24', 'fd00:10:0:2::/64'],
        },
        { name: 'node-c', underlayIP: '10.0.1.3', podCIDRs: ['10.244.3.0/24', 'fd00:10:0:3::/64'] },
        { name: 'node-d', underlayIP: '10.0.1.4', podCIDRs: ['10.244.4.0/24'] },
      ],
      'api',
    );
    const s = computeStatus(
      inputs({
        cluster: store.view(),
        sourceOf: (n) => store.sourceOf(n),
        programmedSelf: self6,
        local: { ...local, podCIDRs: self6.podCIDRs },
        sync: {
          ...sync,
          peerRoutes6: new Map([
            ['node-b', 'direct'],
            ['node-c', 'vxlan'],
          ]),
        },
      }),
    );
    assert.equal(s.node.underlayIP6, 'fd00::1');
    assert.deepEqual(s.node.podCIDRs, ['10.244.1.0/24', 'fd00:10:0:1::/64']);
    assert.deepEqual(
      s.peers.map((p) => [p.name, p.route, p.route6, p.underlayIP6, p.podCIDRs.length]),
      [
        ['node-b', 'direct', 'direct', 'fd00::2', 2],
        ['node-c', 'vxlan', 'vxlan', undefined, 2],
        ['node-d', 'vxlan', undefined, undefined, 1],
      ],
    );
    assert.equal('route6' in (s.peers[2] ?? {}), false, 'no IPv6 route: no key');
    assert.equal(
      renderStatus(s),
      `Node:     node-a
Backend:  auto   MTU: 1450   Underlay: 10.0.0.1, fd00::1 (eth0)
PodCIDRs: 10.244.1.0/24, fd00:10:0:1::/64
IPAM:     3/254 addresses in use
Gossip:   on — port 9743

Peers: 3 (1 alive, 1 dead, 1 unknown)
NAME    STATE    ROUTE   ROUTE6  UNDERLAY  UNDERLAY6  LAST SEEN  RTT
node-b  alive    direct  direct  10.0.0.2  fd00::2    2s ago     0.42ms
node-c  dead     vxlan   vxlan   10.0.1.3  -          5m ago     -
node-d  unknown  vxlan   -       10.0.1.4  -          -          -
`,
    );
    const json = JSON.parse(JSON.stringify(computeStatus(inputs()))) as StatusJson;
    assert.equal('underlayIP6' in json.node, false, 'an IPv4-only node’s JSON has no IPv6 keys');
    assert.equal(
      json.peers.some((p) => 'route6' in p || 'underlayIP6' in p),
      false,
    );
  });

  const phases: Array<[string, GossipPhase, string, string | null, RegExp]> = [
    ['running', RUNNING, 'on', null, /^port 9743$/],
    [
      'running, insecure',
      { phase: 'running', port: 19743, insecure: true },
      'on',
      null,
      /^port 19743, public test key \(WEFT_GOSSIP_INSECURE\)$/,
    ],
    ['starting', { phase: 'starting' }, 'off', 'starting', /^starting$/],
    [
      'no key file',
      NO_KEY,
      'off',
      'no-key',
      /^no key: \/etc\/weft\/gossip\/key not found \(Secret weft-system\/weft-gossip-key .*weft-controller creates it\)$/,
    ],
    [
      'short key',
      { ...NO_KEY, problem: 'short', message: 'gossip key in /k is 5 bytes, needs at least 16' },
      'off',
      'bad-key',
      /^bad key: gossip key in \/k is 5 bytes, needs at least 16 \(Secret weft-system\/weft-gossip-key\)$/,
    ],
    [
      'unreadable key',
      { ...NO_KEY, problem: 'unreadable', message: 'cannot read gossip key file /k: EACCES' },
      'off',
      'key-unreadable',
      /^cannot read the key: cannot read gossip key file \/k: EACCES$/,
    ],
    ['node unknown', { phase: 'no-self' }, 'off', 'node-unknown', /cluster view/],
    [
      'port taken',
      { phase: 'cannot-listen', port: 9743, message: 'listen EADDRINUSE' },
      'off',
      'cannot-listen',
      /^cannot listen on port 9743: listen EADDRINUSE \(retrying\)$/,
    ],
    ['stopped', { phase: 'stopped' }, 'off', 'stopped', /left the mesh/],
  ];
  for (const [what, phase, state, reason, detail] of phases) {
    it(`gossip status: ${what}`, () => {
      const g = computeGossipStatus(phase, SECRET);
      assert.equal(g.state, state);
      assert.equal(g.reason, reason);
      assert.match(g.detail, detail);
      assert.equal(g.port, state === 'on' ? (phase as { port: number }).port : null);
    });
  }

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
    let source: StatusSource = () => inputs();
    before(async () => {
      const handler = statusHandler(
        () => source(),
        () => NOW,
      );
      server = createServer((req, res) => {
        if (req.url === '/api/v1/status') handler(req, res);
        else res.writeHead(404).end();
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      addr = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((r) => server.close(() => r())));

    async function cli(args: string[]): Promise<[number, string]> {
      let out = '';
      const code = await runCli(['status', '--addr', addr, ...args], {}, (s) => {
        out += s;
      });
      return [code, out];
    }

    it('prints the text table', async () => {
      source = () => inputs();
      assert.deepEqual(await cli([]), [0, TEXT_GOSSIP_ON]);
      source = () => inputs({ gossip: NO_KEY, mesh: undefined });
      assert.deepEqual(await cli([]), [0, TEXT_GOSSIP_OFF]);
    });

    it('prints JSON with --json', async () => {
      source = () => inputs({ gossip: NO_KEY, mesh: undefined });
      const [code, out] = await cli(['--json']);
      assert.equal(code, 0);
      const s = JSON.parse(out) as StatusJson;
      assert.equal(s.node.name, 'node-a');
      assert.equal(s.node.ready, true);
      assert.equal(s.gossip.reason, 'no-key');
      assert.deepEqual(
        s.peers.map((p) => [p.name, p.state, p.route, p.rttMs]),
        [
          ['node-b', 'gossip-off', 'direct', null],
          ['node-c', 'gossip-off', 'vxlan', null],
          ['node-d', 'gossip-off', 'vxlan', null],
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
