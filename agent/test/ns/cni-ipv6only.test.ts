import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { ipamStatePath } from '../../src/cni/ipam.js';
import { parseIpamState } from '../../src/cni/ipam-state.js';
import { CniTestNode, ip } from './cni-fixture.js';
import { CniPluginError } from './cni-runtime.js';

/** An IPv6-only node (ADR 19): one IPv6 podCIDR, no IPv4 anywhere on the bridge or in pods. */
const POD_CIDRS = ['fd00:10:244:1::/64'];
const GW6 = 'fd00:10:244:1::1';

type AddResult = {
  interfaces: Array<{ name: string; mac?: string; sandbox?: string }>;
  ips: Array<{ address: string; gateway?: string; interface?: number }>;
  routes: Array<{ dst: string; gw?: string }>;
};

describe('CNI on an IPv6-only node through the real shim and conflist (node netns)', {
  timeout: 120_000,
}, () => {
  let node: CniTestNode;
  before(async () => {
    node = await CniTestNode.create('v6only', { podCIDRs: POD_CIDRS });
  });
  after(async () => {
    await node?.cleanup();
  });

  const allocations = async () =>
    parseIpamState(await readFile(ipamStatePath(node.stateDir, 'weft'), 'utf8')).allocations;
  /** The pod's global addresses and its default routes per family. */
  async function podView(pod: string) {
    const json = async (args: string[]) => JSON.parse(await ip(['-n', node.podName(pod), '-j', ...args]));
    const [link] = (await json(['addr', 'show', 'dev', 'eth0'])) as Array<{
      address: string;
      addr_info: Array<{ family: string; local: string; prefixlen: number; scope: string }>;
    }>;
    const routes4 = (await json(['-4', 'route', 'show', 'default'])) as unknown[];
    const routes6 = (await json(['-6', 'route', 'show', 'default'])) as Array<{ gateway?: string }>;
    const global = (link?.addr_info ?? []).filter((a) => a.scope === 'global');
    return { mac: link?.address, global, routes4, gateways6: routes6.map((r) => r.gateway) };
  }

  it('ADD → CHECK → DEL → DEL: only the IPv6 address, its gateway and ::/0', async () => {
    const { a, r, podIndex } = await node.addPod<AddResult>('a', 'ctr-v6o-a');
    const { netns } = a;
    const v6 = r.ips[0]?.address.split('/')[0] ?? '';
    assert.match(v6, /^fd00:10:244:1::[0-9a-f]+$/);
    assert.deepEqual(r.ips, [{ address: `${v6}/64`, gateway: GW6, interface: podIndex }]);
    assert.deepEqual(r.routes, [{ dst: '::/0', gw: GW6 }]);
    assert.deepEqual((await allocations()).get('ctr-v6o-a/eth0')?.ips, [v6], 'persisted');

    const view = await podView('a');
    assert.deepEqual(
      view.global.map((x) => `${x.local}/${x.prefixlen}`),
      [`${v6}/64`],
    );
    assert.equal(view.mac, r.interfaces[podIndex]?.mac);
    assert.notEqual(view.mac, '0a:58:00:00:00:00', 'the MAC comes from the IPv6 address');
    assert.deepEqual(view.routes4, [], 'no IPv4 default route');
    assert.deepEqual(view.gateways6, [GW6]);
    assert.ok(await node.ping(GW6, 'a'), 'pod → IPv6 gateway');
    assert.ok(await node.ping(v6), 'node → pod');

    await node.runtime.check(a, r);
    await ip(['-n', node.podName('a'), '-6', 'route', 'del', 'default']);
    const err = await node.runtime.check(a, r).then(
      () => assert.fail('CHECK passed without the default route'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof CniPluginError && err.code === 104, String(err));
    assert.equal(err.details, `default route via ${GW6} missing in ${netns}`);

    await node.delTwice(a, r);
    await node.deletePod('a');
  });

  it('two pods get distinct addresses and MACs and reach each other; an agent restart (SIGKILL) keeps them', async () => {
    await node.stopServer();
    const pods = ['p1', 'p2'];
    try {
      await node.startChildAgent();
      const added: Array<{ a: { containerId: string; netns: string }; r: AddResult }> = [];
      for (const pod of pods) {
        const a = { containerId: `ctr-v6o-${pod}`, netns: await node.createPod(pod) };
        added.push({ a, r: (await node.runtime.add(a)) as AddResult });
        // restart between the two ADDs: the second must not get the first one's address
        await node.killChildAgent();
        await node.startChildAgent();
      }
      for (const { a, r } of added) await node.runtime.check(a, r); // checks IPAM's record too
      const addrs = added.map(({ r }) => r.ips[0]?.address.split('/')[0] ?? '');
      const macs = added.map(({ r }) => r.interfaces.find((i) => i.sandbox !== undefined)?.mac);
      assert.equal(new Set(addrs).size, 2, addrs.join(' '));
      assert.equal(new Set(macs).size, 2, macs.join(' '));
      assert.ok(await node.ping(addrs[1] ?? '', 'p1'), 'pod → pod');
      for (const { a, r } of added) await node.delTwice(a, r);
      assert.equal((await allocations()).size, 0);
      await node.killChildAgent();
    } finally {
      for (const pod of pods) await node.deletePod(pod);
      await node.startServer();
    }
  });
});
