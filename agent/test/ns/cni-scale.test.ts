import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { installCniFiles } from '../../src/cni/install.js';
import { ipamStatePath } from '../../src/cni/ipam.js';
import { parseIpamState } from '../../src/cni/ipam-state.js';
import { CniTestNode, REFERENCE_PLUGINS } from './cni-fixture.js';

/** Runs `fn` over `items` with at most `limit` at once. */
async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function addressOf(result: unknown): string {
  const ips = (result as { ips: Array<{ address: string }> }).ips;
  return ips[0]?.address.split('/')[0] ?? '';
}

describe('CNI under load and crashes (node netns)', { timeout: 300_000 }, () => {
  let node: CniTestNode;
  before(async () => {
    node = await CniTestNode.create('scale');
  });
  after(async () => {
    await node?.cleanup();
  });

  it('100 concurrent ADDs get 100 distinct addresses, all reachable from the node', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => i);
    const attachments = await pool(ids, 16, async (i) => ({
      containerId: `burst-${i}`,
      netns: await node.createPod(i),
    }));
    const results = await Promise.all(attachments.map((a) => node.runtime.add(a)));
    const addresses = results.map(addressOf);
    assert.equal(new Set(addresses).size, 100, 'distinct addresses');
    const unreachable = (
      await pool(addresses, 16, async (ip) => ((await node.ping(ip)) ? undefined : ip))
    ).filter(Boolean);
    assert.deepEqual(unreachable, []);
    await pool(ids, 16, async (i) => {
      await node.runtime.del(attachments[i] as (typeof attachments)[number], results[i]);
      await node.deletePod(i);
    });
    assert.deepEqual(await node.hostVeths(), []);
    const state = parseIpamState(await readFile(ipamStatePath(node.stateDir, 'weft'), 'utf8'));
    assert.equal(state.allocations.size, 0);
  });

  it('agent SIGKILLed during a burst of ADDs: after restart no duplicate, after GC no leak', async () => {
    await node.stopServer();
    await node.startChildAgent();
    const ids = Array.from({ length: 40 }, (_, i) => i);
    const attachments = await pool(ids, 16, async (i) => ({
      containerId: `crash-${i}`,
      netns: await node.createPod(`c${i}`),
    }));
    let succeeded = 0;
    let onFifth = () => {};
    const fifth = new Promise<void>((resolve) => {
      onFifth = resolve;
    });
    // ADDs start 15 ms apart, so the kill lands with some in flight and some still to come.
    const outcomes = attachments.map((a, i) =>
      sleep(15 * i)
        .then(() => node.runtime.add(a))
        .then(
          (r) => {
            if (++succeeded === 5) onFifth();
            return { a, r, ok: true as const };
          },
          () => ({ a, r: undefined, ok: false as const }),
        ),
    );
    await Promise.race([fifth, Promise.all(outcomes)]);
    await node.killChildAgent();
    const first = await Promise.all(outcomes);
    const failed = first.filter((o) => !o.ok);
    assert.ok(
      failed.length > 0 && failed.length < 40,
      `the kill should interrupt the burst (failed ${failed.length})`,
    );

    await node.startChildAgent();
    // As a runtime does: failed ADDs are torn down with DEL, then retried.
    for (const o of failed) await node.runtime.del(o.a);
    const retried = await Promise.all(
      failed.map(async (o) => ({ a: o.a, r: await node.runtime.add(o.a), ok: true })),
    );
    const all = [...first.filter((o) => o.ok), ...retried];
    const addresses = all.map((o) => addressOf(o.r));
    assert.equal(new Set(addresses).size, 40, `no duplicate among ${addresses.length}`);
    for (const o of all.slice(0, 5)) await node.runtime.check(o.a, o.r);

    // GC with the runtime's view: only the first 20 pods are still valid. Weft's GC
    // is called directly at 1.1.0: the reference portmap keeps the conflist at 1.0.0,
    // where a runtime sends no GC.
    const valid = all.filter((o) => Number(o.a.containerId.split('-')[1]) < 20);
    await node.runtime.invoke(
      'GC',
      node.runtime.conflist.plugins[0] as Record<string, unknown>,
      undefined,
      undefined,
      {
        cniVersion: '1.1.0',
        'cni.dev/valid-attachments': valid.map((o) => ({ containerID: o.a.containerId, ifname: 'eth0' })),
      },
    );
    const state = parseIpamState(await readFile(ipamStatePath(node.stateDir, 'weft'), 'utf8'));
    assert.deepEqual(
      [...state.allocations.keys()].sort(),
      valid.map((o) => `${o.a.containerId}/eth0`).sort(),
      'only valid attachments keep addresses',
    );
    assert.equal((await node.hostVeths()).length, 20, 'only valid attachments keep host veths');
    for (const o of valid) await node.runtime.del(o.a, o.r);
    await node.killChildAgent();
    for (const i of ids) await node.deletePod(`c${i}`);
    await node.startServer();
  });

  it('installing twice leaves unchanged files untouched', async () => {
    const opts = {
      binDir: node.binDir,
      confDir: node.confDir,
      shimSource: node.shim,
      socketPath: node.socketPath,
      pluginDirs: [REFERENCE_PLUGINS],
    };
    const shimPath = join(node.binDir, 'weft');
    const confPath = join(node.confDir, '10-weft.conflist');
    const before = [(await stat(shimPath)).mtimeMs, (await stat(confPath)).mtimeMs];
    await new Promise((r) => setTimeout(r, 20));
    const again = await installCniFiles(opts);
    assert.deepEqual([again.shimWritten, again.conflistWritten], [false, false]);
    assert.deepEqual([(await stat(shimPath)).mtimeMs, (await stat(confPath)).mtimeMs], before);
    const moved = await installCniFiles({ ...opts, socketPath: `${node.socketPath}.new` });
    assert.deepEqual([moved.shimWritten, moved.conflistWritten], [false, true]);
    assert.match(await readFile(confPath, 'utf8'), /cni\.sock\.new/);
    await installCniFiles(opts);
  });
});
