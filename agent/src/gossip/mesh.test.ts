import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../../../common/log.js';
import { MemoryNetwork } from './memory-transport.js';
import { GossipMesh } from './mesh.js';
import { sampleRecord } from './test-fixtures.js';
import type { PeerAddress } from './transport.js';

const KEY = Buffer.alloc(32, 3);

function newMesh(name: string, net: MemoryNetwork, seeds: PeerAddress[], extra = {}): GossipMesh {
  return new GossipMesh({
    name,
    self: () => ({
      underlayIP: '127.0.0.1',
      podCIDRs: ['10.244.9.0/24'],
      backend: 'auto',
      mtu: 1450,
      ready: true,
      agentVersion: 'test',
    }),
    key: KEY,
    listen: { host: '127.0.0.1', port: 0 },
    seeds: () => seeds,
    log: silentLogger(),
    registry: new Registry(),
    transport: net.transport('127.0.0.1'),
    ...extra,
  });
}

describe('GossipMesh options', () => {
  it('starts from initialRecords (a disk cache) and ignores a record of its own name', async () => {
    const cached = [
      sampleRecord({ name: 'node-b', underlayIP: '10.0.0.2' }),
      sampleRecord({ name: 'node-self', mtu: 1234 }),
    ];
    const mesh = newMesh('node-self', new MemoryNetwork(), [], { initialRecords: cached });
    const ctl = new AbortController();
    try {
      await mesh.start(ctl.signal);
      const view = mesh.view();
      assert.deepEqual(
        view.peers.map((p) => [p.name, p.record.underlayIP]),
        [['node-b', '10.0.0.2']],
      );
      assert.equal(view.self?.mtu, 1450, 'own record comes from self(), not the cache');
    } finally {
      ctl.abort();
      await mesh.close();
    }
  });

  it('waits between rounds with the injected sleep', async () => {
    const waits: number[] = [];
    let release: () => void = () => undefined;
    const sleep = (ms: number): Promise<void> => {
      waits.push(ms);
      return new Promise((r) => {
        release = r;
      });
    };
    const mesh = newMesh('node-a', new MemoryNetwork(), [], { sleep, timing: { intervalMs: 1000 } });
    const ctl = new AbortController();
    try {
      await mesh.start(ctl.signal);
      assert.equal(waits.length, 1);
      release();
      await new Promise((r) => setImmediate(r));
      assert.equal(waits.length, 2, 'the next round ran when the injected sleep resolved');
      for (const w of waits) assert.ok(w >= 900 && w <= 1100, `interval ${w} within ±10 %`);
    } finally {
      ctl.abort();
      release();
      await mesh.close();
    }
  });
});
