/**
 * WireGuard on a real kernel datapath: two node namespaces on one underlay veth pair, each with
 * `weft.wg` made by agent/src/wireguard (the kernel's module where there is one, else
 * wireguard-go — on these machines), keys from the key module, peers from desired/plan/apply.
 * A pod-like address behind each node (on a bridge: this kernel has no dummy module) is routed via weft.wg. Everything is
 * named wtwg-…; every wireguard-go is ended in after(), also when a test fails, and leftovers
 * of a crashed run are ended by their pid files first. wg, tcpdump or wireguard-go missing
 * fails the suite: it is never skipped.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { resolveWireguardGo } from '../../../e2e/wireguard/wireguard-go.js';
import { requireHostTools } from '../../../scripts/host-tools.js';
import {
  desiredWireguard,
  WG_DEFAULT_PORT,
  WG_DEVICE,
  type WgPeerInput,
} from '../../src/wireguard/desired.js';
import { detectWireguard, type WgImplementation } from '../../src/wireguard/detect.js';
import { WireguardDevice } from '../../src/wireguard/device.js';
import { loadOrCreateNodeKey, rotateNodeKey, type WireguardKeyPair } from '../../src/wireguard/keys.js';
import { captureOn } from './capture.js';
import { addVethPair, canPing, NetnsSet, nsIpBatch, nsRun, run } from './netns-helpers.js';

const PEER = fileURLToPath(new URL('./policy-peer.js', import.meta.url));
const SCRATCH = join(tmpdir(), 'wtwg');
const TCP_PORT = 7777;

interface Node {
  readonly name: 'n1' | 'n2';
  readonly ns: string;
  readonly underlayIP: string;
  readonly podCIDR: string;
  readonly podIP: string;
  readonly stateDir: string;
  readonly runDir: string;
  device: WireguardDevice;
  key: WireguardKeyPair;
}

/** Ends wireguard-go processes a crashed earlier run left (their pids are in SCRATCH/*.pid). */
async function endLeftovers(): Promise<void> {
  const files = await readdir(SCRATCH).catch(() => [] as string[]);
  for (const f of files.filter((n) => n.endsWith('.pid'))) {
    const pid = Number((await readFile(join(SCRATCH, f), 'utf8')).trim());
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (pid > 1 && cmdline.includes('wireguard-go')) process.kill(pid, 'SIGKILL');
  }
}

const capture = (ns: string, dev: string, body: () => Promise<void>) => captureOn(ns, dev, SCRATCH, body);

describe('WireGuard between two nodes (namespaces)', { timeout: 120_000 }, () => {
  const set = new NetnsSet('wtwg');
  const children: ChildProcess[] = [];
  let impl: WgImplementation;
  const nodes: Node[] = [];

  const peerOf = (n: Node, publicKey = n.key.publicKey): WgPeerInput => ({
    name: n.name,
    underlayIP: n.underlayIP,
    allowedIPs: [n.podCIDR],
    publicKey,
  });

  /** desired(self, peers) → plan → apply, as the agent's loop will; returns the ops applied. */
  async function sync(self: Node, peers: WgPeerInput[]) {
    const { desired, skipped } = desiredWireguard({
      device: WG_DEVICE,
      listenPort: WG_DEFAULT_PORT,
      underlayMtu: 1500,
      underlayFamily: 4,
      addresses: [],
      publicKey: self.key.publicKey,
      peers,
    });
    assert.deepEqual(skipped, []);
    const ops = await self.device.sync(desired, self.key);
    const pid = self.device.userspacePid;
    if (pid !== undefined) await writeFile(join(SCRATCH, `${self.name}.pid`), String(pid));
    return ops;
  }
  const [n1, n2] = [() => nodes[0] as Node, () => nodes[1] as Node];
  const syncBoth = async () => {
    await sync(n1(), [peerOf(n2())]);
    await sync(n2(), [peerOf(n1())]);
  };

  /** TCP from n1's pod address to n2's: connect, send, the echo comes back. */
  async function tcpExchange(): Promise<boolean> {
    const args = [
      'netns',
      'exec',
      n1().ns,
      process.execPath,
      PEER,
      'probe',
      n2().podIP,
      String(TCP_PORT),
      '2000',
    ];
    return run('ip', args).then(
      () => true,
      () => false,
    );
  }

  /** Seconds until n1's pod address reaches n2's again, or Infinity after `limitS`. */
  async function secondsUntilPing(limitS: number): Promise<number> {
    const start = Date.now();
    while (Date.now() - start < limitS * 1000) {
      if (await canPing(n1().ns, n2().podIP, 1)) return (Date.now() - start) / 1000;
    }
    return Number.POSITIVE_INFINITY;
  }

  before(async () => {
    // Fails loudly, never skips: the tools are in scripts/host-tools.txt, wireguard-go is built.
    requireHostTools(['ip', 'wg', 'tcpdump', 'nsenter', 'unshare', 'mount']);
    const wireguardGo = await resolveWireguardGo();
    impl = await detectWireguard({ wireguardGo });
    assert.notEqual(impl.kind, 'none', impl.kind === 'none' ? impl.reason : '');
    await endLeftovers();
    await set.cleanup();
    await rm(SCRATCH, { recursive: true, force: true });
    const a = await set.create('n1');
    const b = await set.create('n2');
    await addVethPair(a, 'eth0', b, 'eth0');
    const spec = [
      { name: 'n1', ns: a, underlayIP: '192.168.93.1', podCIDR: '10.250.1.0/24', podIP: '10.250.1.10' },
      { name: 'n2', ns: b, underlayIP: '192.168.93.2', podCIDR: '10.250.2.0/24', podIP: '10.250.2.10' },
    ] as const;
    for (const s of spec) {
      // No IPv6 on the underlay: the capture must see nothing but the tunnel.
      await nsRun(s.ns, 'sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1']);
      await nsIpBatch(s.ns, [
        `addr add ${s.underlayIP}/24 dev eth0`,
        'link add pod0 type bridge',
        'link set pod0 up',
        `addr add ${s.podIP}/32 dev pod0`,
      ]);
      const stateDir = join(SCRATCH, s.name, 'state');
      const runDir = join(SCRATCH, s.name, 'run');
      await mkdir(runDir, { recursive: true });
      const device = new WireguardDevice({ device: WG_DEVICE, implementation: impl, netns: s.ns, runDir });
      const { key, created } = await loadOrCreateNodeKey(stateDir);
      assert.ok(created);
      nodes.push({ ...s, stateDir, runDir, device, key });
    }
    for (const n of nodes) {
      const serve = spawn('ip', ['netns', 'exec', n.ns, process.execPath, PEER, 'serve', String(TCP_PORT)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(serve);
      await new Promise<void>((resolve) =>
        createInterface({ input: serve.stdout as NodeJS.ReadableStream }).once('line', () => resolve()),
      );
    }
  });

  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    for (const n of nodes) {
      await n.device.uninstall().catch(() => undefined);
      n.device.close();
    }
    await endLeftovers();
    await set.cleanup();
    await rm(SCRATCH, { recursive: true, force: true });
  });

  it('makes weft.wg with the node key, its MTU and peers; a second sync plans nothing', async (t) => {
    t.diagnostic(`implementation: ${JSON.stringify(impl)}`);
    const first = await sync(n1(), [peerOf(n2())]);
    assert.deepEqual(
      first.map((o) => o.op),
      ['device-add', 'link-mtu', 'link-up', 'private-key', 'listen-port', 'peer-set'],
    );
    await sync(n2(), [peerOf(n1())]);
    for (const n of nodes) {
      await nsIpBatch(n.ns, [
        `route add ${(n === n1() ? n2() : n1()).podCIDR} dev ${WG_DEVICE} src ${n.podIP}`,
      ]);
      const observed = await n.device.observe();
      assert.equal(observed.link?.mtu, 1440);
      assert.equal(observed.config?.publicKey, n.key.publicKey, 'the device holds the key from the key file');
      assert.equal(observed.config?.listenPort, WG_DEFAULT_PORT);
      assert.deepEqual(await sync(n, [peerOf(n === n1() ? n2() : n1())]), []);
    }
    if (impl.kind === 'userspace') {
      const socks = await readdir(join(n1().runDir, 'wireguard'));
      assert.ok(socks.includes(`${WG_DEVICE}.sock`), `UAPI socket in the node's own /run: ${socks}`);
    }
  });

  it('pod ↔ pod ping and TCP cross, and the underlay carries only WireGuard UDP', async () => {
    const { raw, text } = await capture(n1().ns, 'eth0', async () => {
      assert.ok(await canPing(n1().ns, n2().podIP), 'n1 pod → n2 pod');
      assert.ok(await canPing(n2().ns, n1().podIP), 'n2 pod → n1 pod');
      assert.ok(await tcpExchange(), 'TCP n1 pod → n2 pod');
    });
    const packets = text.trim().split('\n');
    assert.ok(packets.length >= 6, `captured ${packets.length} packets:\n${text}`);
    const tunnel = new RegExp(
      `IP 192\\.168\\.93\\.[12]\\.${WG_DEFAULT_PORT} > 192\\.168\\.93\\.[12]\\.${WG_DEFAULT_PORT}: UDP`,
    );
    for (const p of packets) assert.match(p, tunnel);
    for (const ip of [n1().podIP, n2().podIP]) {
      const bytes = Buffer.from(ip.split('.').map(Number));
      assert.equal(raw.indexOf(bytes), -1, `inner address ${ip} in clear on the underlay`);
    }
  });

  it('a peer configured with a forged public key gets nothing through', async () => {
    const forged = (await rotateNodeKey(join(SCRATCH, 'forger'))).key.publicKey;
    // n2 believes n1's key is the forger's: n1's real packets and handshakes are refused.
    const ops = await sync(n2(), [peerOf(n1(), forged)]);
    assert.deepEqual(
      ops.map((o) => o.op),
      ['peer-remove', 'peer-set'],
    );
    assert.equal(await canPing(n1().ns, n2().podIP, 1), false);
    assert.equal(await canPing(n2().ns, n1().podIP, 1), false);
    assert.equal(await tcpExchange(), false);
    const seen = (await n2().device.observe()).config?.peers.find((p) => p.publicKey === forged);
    assert.equal(seen?.latestHandshake, 0, 'no handshake with the forged key');
    assert.equal(seen?.rxBytes, 0, 'nothing received as the forged peer');
    await sync(n2(), [peerOf(n1())]);
    assert.ok((await secondsUntilPing(10)) < 10, 'the real key restores traffic');
  });

  it("rotating one node's key (new key file, peers updated) restores traffic within a few seconds", async (t) => {
    const before = n1().key.publicKey;
    n1().key = (await rotateNodeKey(n1().stateDir)).key;
    assert.notEqual(n1().key.publicKey, before);
    assert.deepEqual(
      (await sync(n1(), [peerOf(n2())])).map((o) => o.op),
      ['private-key'],
    );
    assert.equal(await canPing(n1().ns, n2().podIP, 1), false, 'n2 does not know the new key yet');
    const start = Date.now();
    await sync(n2(), [peerOf(n1())]);
    const s = await secondsUntilPing(5);
    t.diagnostic(`traffic back ${((Date.now() - start) / 1000).toFixed(2)} s after the peer update`);
    assert.ok(s < 5, `no traffic within 5 s of the rotation (${s})`);
    assert.ok(await tcpExchange(), 'TCP after the rotation');
    assert.equal((await n1().device.observe()).config?.publicKey, n1().key.publicKey);
    await syncBoth();
  });
});
