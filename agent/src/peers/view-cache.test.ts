import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../../common/log.js';
import { ViewCacheWriter } from './cache-writer.js';
import { PeerStore } from './peer-store.js';
import { ViewCache } from './view-cache.js';

const nodes = [
  { name: 'a', underlayIP: '10.0.0.1', podCIDRs: ['10.244.1.0/24'] },
  { name: 'b', underlayIP: '10.0.0.2', podCIDRs: [] },
];

describe('ViewCache', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-view-cache-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips a view and leaves no temp file', async () => {
    const cache = new ViewCache({ stateDir: join(dir, 'rt'), log: silentLogger() });
    assert.equal(await cache.load('a'), undefined, 'missing file is no view');
    await cache.save('a', nodes);
    const loaded = await cache.load('a');
    assert.deepEqual(loaded?.nodes, nodes);
    assert.ok(loaded && Date.parse(loaded.writtenAt) > 0);
    assert.deepEqual(await readdir(join(dir, 'rt')), ['cluster-view.json']);
  });

  it('keeps underlayIP6 and IPv6 podCIDRs; a file written before dual-stack still loads', async () => {
    const cache = new ViewCache({ stateDir: join(dir, 'ds'), log: silentLogger() });
    const dual = [
      {
        name: 'a',
        underlayIP: '10.0.0.1',
        underlayIP6: 'fd00::1',
        podCIDRs: ['10.244.1.0/24', 'fd00:10::/64'],
      },
      ...nodes,
    ];
    await cache.save('a', dual);
    assert.deepEqual((await cache.load('a'))?.nodes, dual);
    const saved = JSON.parse(await readFile(cache.path, 'utf8'));
    assert.equal('underlayIP6' in saved.nodes[1], false, 'an IPv4-only node is written as before');
    await writeFile(
      cache.path,
      '{"version":1,"nodeName":"a","writtenAt":"2025-01-01T00:00:00.000Z","nodes":[{"name":"a","underlayIP":"10.0.0.1","podCIDRs":["10.244.1.0/24"]}]}\n',
    );
    assert.deepEqual((await cache.load('a'))?.nodes, [nodes[0]]);
  });

  it('round-trips IPv6-only nodes (underlayIP = underlayIP6 = IPv6; ADR 19)', async () => {
    const cache = new ViewCache({ stateDir: join(dir, 'v6'), log: silentLogger() });
    const six = [
      { name: 'a', underlayIP: 'fd00::1', underlayIP6: 'fd00::1', podCIDRs: ['fd00:10:0:1::/64'] },
      { name: 'b', underlayIP: 'fd00::2', underlayIP6: 'fd00::2', podCIDRs: [] },
    ];
    await cache.save('a', six);
    assert.deepEqual((await cache.load('a'))?.nodes, six);
    // a record that leaves underlayIP6 out (or spells the address long) loads the same
    await writeFile(
      cache.path,
      '{"version":1,"nodeName":"a","writtenAt":"2025-01-01T00:00:00.000Z","nodes":[{"name":"a","underlayIP":"FD00:0::1","podCIDRs":["fd00:10:0:1::/64"]}]}\n',
    );
    assert.deepEqual((await cache.load('a'))?.nodes, [six[0]]);
  });

  const corrupt: Array<[string, string]> = [
    ['truncated JSON', '{"version":1,"nodeName":"a","nodes":['],
    ['another schema version', '{"version":2,"nodeName":"a","writtenAt":"x","nodes":[]}'],
    ['another node', '{"version":1,"nodeName":"z","writtenAt":"x","nodes":[]}'],
    [
      'a bad record',
      '{"version":1,"nodeName":"a","writtenAt":"x","nodes":[{"name":"b","underlayIP":"nope","podCIDRs":[]}]}',
    ],
    [
      'a bad underlayIP6',
      '{"version":1,"nodeName":"a","writtenAt":"x","nodes":[{"name":"b","underlayIP":"10.0.0.2","underlayIP6":"10.0.0.2","podCIDRs":[]}]}',
    ],
    ['null', 'null'],
  ];
  for (const [title, content] of corrupt) {
    it(`ignores a cache with ${title}`, async () => {
      const cache = new ViewCache({ stateDir: join(dir, 'bad'), log: silentLogger() });
      await mkdir(join(dir, 'bad'), { recursive: true });
      await writeFile(cache.path, content);
      assert.equal(await cache.load('a'), undefined);
    });
  }

  it('the writer persists API views only, and the latest one', async () => {
    const cache = new ViewCache({ stateDir: join(dir, 'w'), log: silentLogger() });
    const store = new PeerStore('a');
    store.replaceAll(nodes, 'cache');
    const writer = new ViewCacheWriter({ store, cache, log: silentLogger(), minIntervalMs: 0 });
    await writer.writeIfChanged();
    assert.equal(await cache.load('a'), undefined, 'a cache-sourced view is not written back');
    const ac = new AbortController();
    const running = writer.run(ac.signal);
    store.replaceAll(nodes, 'api');
    store.upsert({ name: 'c', underlayIP: '10.0.0.3', podCIDRs: ['10.244.3.0/24'] });
    for (let i = 0; i < 100 && (await cache.load('a'))?.nodes.length !== 3; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    ac.abort();
    await running;
    const saved = JSON.parse(await readFile(cache.path, 'utf8'));
    assert.equal(saved.version, 1);
    assert.deepEqual(
      saved.nodes.map((n: { name: string }) => n.name),
      ['a', 'b', 'c'],
    );
  });
});
