import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../../../common/log.js';
import { parseAgentOptions } from '../config/agent-options.js';
import { PeerStore } from '../peers/peer-store.js';
import {
  computeGossipTiming,
  computeSeeds,
  computeSelfReport,
  createGossipExtension,
  type GossipRuntime,
  gossipListenHost,
} from './extension.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-gossip-ext-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function until(what: string, probe: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function fakeRuntime(keyFile: string, ac: AbortController) {
  const store = new PeerStore('n1');
  store.replaceAll([{ name: 'n1', underlayIP: '127.0.0.1', podCIDRs: ['10.244.1.0/24'] }], 'cache');
  const rt = {
    // Port 0: the kernel picks a free port for the test.
    opts: { ...parseAgentOptions([], { NODE_NAME: 'n1', WEFT_GOSSIP_KEY_FILE: keyFile }), gossipPort: 0 },
    netConf: { backend: 'auto', mtu: undefined, clusterCIDRs: ['10.244.0.0/16'] },
    log: silentLogger(),
    registry: new Registry(),
    store,
    loop: { lastResult: undefined, onSynced: () => () => undefined },
    localNetwork: () => undefined,
    signal: ac.signal,
  };
  return { rt: rt as unknown as GossipRuntime };
}

describe('gossip extension', () => {
  it('derives rounds and heartbeats from the failure-detection timeouts', () => {
    assert.deepEqual(computeGossipTiming(20_000, 40_000), {
      suspectAfterMs: 20_000,
      deadAfterMs: 40_000,
      intervalMs: 1000,
      heartbeatMs: 5000,
    });
    assert.equal(computeGossipTiming(2000, 4000).intervalMs, 500);
    assert.equal(computeGossipTiming(2000, 4000).heartbeatMs, 500);
  });

  it('waits for the key file, saying why, then gossips; leaves on abort', async () => {
    const keyFile = join(dir, 'key');
    const ac = new AbortController();
    const { rt } = fakeRuntime(keyFile, ac);
    const ext = createGossipExtension({ keyRetryMs: 30, leaveWaitMs: 50 });
    assert.deepEqual(ext.phase(), { phase: 'starting' });
    const running = ext.start(rt);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(ext.view(), undefined, 'no gossip without a key');
    assert.deepEqual(
      { ...ext.phase(), message: undefined },
      { phase: 'no-key', keyFile, problem: 'missing', message: undefined },
    );
    writeFileSync(keyFile, 'short');
    await until('short key reported', () => (ext.phase() as { problem?: string }).problem === 'short');
    writeFileSync(keyFile, 'k'.repeat(32));
    await until('mesh running', () => ext.view()?.self !== undefined);
    await until('phase running', () => ext.phase().phase === 'running');
    assert.equal((ext.phase() as { insecure?: boolean }).insecure, false);
    assert.equal(ext.view()?.self?.underlayIP, '127.0.0.1');
    assert.deepEqual(ext.view()?.self?.podCIDRs, ['10.244.1.0/24']);
    assert.equal(ext.view()?.self?.ready, false);
    ac.abort();
    await running;
    assert.ok(ext.view()?.self?.leaving, 'a tombstone was published');
    assert.deepEqual(ext.phase(), { phase: 'stopped' });
  });

  it('reports the IPv6 InternalIP and podCIDR only when the cluster is dual-stack', () => {
    const n1 = {
      name: 'n1',
      underlayIP: '10.0.0.1',
      underlayIP6: 'fd00::1',
      podCIDRs: ['10.244.1.0/24', 'fd00:10:0:1::/64'],
    };
    const report = (ipv6: boolean) => {
      const store = new PeerStore('n1', { families: ipv6 ? [4, 6] : [4] });
      store.replaceAll([n1], 'api');
      const rt = {
        netConf: { backend: 'auto', mtu: undefined },
        store,
        loop: { lastResult: undefined },
        localNetwork: () => undefined,
      } as unknown as GossipRuntime;
      return JSON.stringify({ ...computeSelfReport(rt), agentVersion: 'v' });
    };
    // An IPv4-only cluster's record is exactly what agents before dual-stack published.
    assert.equal(
      report(false),
      '{"underlayIP":"10.0.0.1","podCIDRs":["10.244.1.0/24"],"backend":"auto","mtu":1500,"ready":false,"agentVersion":"v"}',
    );
    assert.equal(
      report(true),
      '{"underlayIP":"10.0.0.1","underlayIP6":"fd00::1","podCIDRs":["10.244.1.0/24","fd00:10:0:1::/64"],"backend":"auto","mtu":1500,"ready":false,"agentVersion":"v"}',
    );
  });

  it('stops waiting for a key that never comes when aborted', async () => {
    const ac = new AbortController();
    const { rt } = fakeRuntime(join(dir, 'missing'), ac);
    const ext = createGossipExtension({ keyRetryMs: 30 });
    const running = ext.start(rt);
    await new Promise((r) => setTimeout(r, 80));
    ac.abort();
    await running;
    assert.equal(ext.view(), undefined);
  });

  it('in an IPv6-only cluster listens on :: and seeds peers at [IPv6]:port (ADR 19)', () => {
    const table: Array<[string[], string]> = [
      [['10.244.0.0/16'], '0.0.0.0'],
      [['10.244.0.0/16', 'fd00:10::/48'], '0.0.0.0'],
      [['fd00:10::/48'], '::'],
    ];
    for (const [clusterCIDRs, host] of table) assert.equal(gossipListenHost({ clusterCIDRs }), host);

    const store = new PeerStore('n1');
    const six = (n: number) => ({
      name: `n${n}`,
      underlayIP: `fd00::${n}`,
      underlayIP6: `fd00::${n}`,
      podCIDRs: [`fd00:10:0:${n}::/64`],
    });
    store.replaceAll([six(1), six(2), { name: 'n3', underlayIP: '10.0.0.3', podCIDRs: [] }], 'api');
    const rt = { opts: { nodeName: 'n1', gossipPort: 8473 }, store } as unknown as GossipRuntime;
    assert.deepEqual(computeSeeds(rt), [
      { name: 'n2', address: '[fd00::2]:8473' },
      { name: 'n3', address: '10.0.0.3:8473' },
    ]);
  });
});
