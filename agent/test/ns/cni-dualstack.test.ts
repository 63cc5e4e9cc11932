import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { ipamStatePath } from '../../src/cni/ipam.js';
import { parseIpamState } from '../../src/cni/ipam-state.js';
import { hostVethName } from '../../src/cni/names.js';
import { CniTestNode, execFileP, ip } from './cni-fixture.js';
import { CniPluginError, type RuntimeAttachment } from './cni-runtime.js';

const POD_CIDRS = ['10.244.1.0/24', 'fd00:10:244:1::/64'];
const GW4 = '10.244.1.1';
const GW6 = 'fd00:10:244:1::1';

type AddResult = {
  interfaces: Array<{ name: string; sandbox?: string }>;
  ips: Array<{ address: string; gateway?: string; interface?: number }>;
  routes: Array<{ dst: string; gw?: string }>;
};

/** The pod's two plain addresses from an ADD result: [IPv4, IPv6]. */
function addressesOf(r: AddResult): [string, string] {
  const [v4, v6] = r.ips.map((i) => i.address.split('/')[0] ?? '');
  return [v4 ?? '', v6 ?? ''];
}

describe('CNI dual-stack through the real shim and conflist (node netns)', { timeout: 120_000 }, () => {
  let node: CniTestNode;
  before(async () => {
    node = await CniTestNode.create('ds', { podCIDRs: POD_CIDRS });
  });
  after(async () => {
    await node?.cleanup();
  });

  const weftConf = () => node.runtime.conflist.plugins[0] as Record<string, unknown>;
  const allocations = async () =>
    parseIpamState(await readFile(ipamStatePath(node.stateDir, 'weft'), 'utf8')).allocations;
  async function checkError(a: RuntimeAttachment, r: unknown): Promise<CniPluginError> {
    const err = await node.runtime.check(a, r).then(
      () => assert.fail('CHECK passed'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof CniPluginError, String(err));
    assert.equal(err.code, 104, err.message);
    return err;
  }
  /** The pod interface's addresses (with flags) and default routes of both families. */
  async function podView(pod: string) {
    const [link] = JSON.parse(
      await ip(['-n', node.podName(pod), '-j', 'addr', 'show', 'dev', 'eth0']),
    ) as Array<{
      addr_info: Array<{
        local: string;
        prefixlen: number;
        scope: string;
        tentative?: boolean;
        nodad?: boolean;
      }>;
    }>;
    const routes = JSON.parse(
      await ip(['-n', node.podName(pod), '-6', '-j', 'route', 'show', 'default']),
    ) as Array<{
      gateway?: string;
      dev?: string;
    }>;
    return { global: (link?.addr_info ?? []).filter((a) => a.scope === 'global'), routes6: routes };
  }

  it('ADD → CHECK → DEL → DEL: both families in the result and the pod, both gateways answer', async () => {
    const { a, r, podIndex } = await node.addPod<AddResult>('a', 'ctr-ds-a');
    const { netns } = a;
    const [v4, v6] = addressesOf(r);
    assert.match(v4, /^10\.244\.1\.\d+$/);
    assert.match(v6, /^fd00:10:244:1::[0-9a-f]+$/);
    assert.deepEqual(r.ips, [
      { address: `${v4}/24`, gateway: GW4, interface: podIndex },
      { address: `${v6}/64`, gateway: GW6, interface: podIndex },
    ]);
    assert.deepEqual(r.routes, [
      { dst: '0.0.0.0/0', gw: GW4 },
      { dst: '::/0', gw: GW6 },
    ]);
    assert.deepEqual((await allocations()).get('ctr-ds-a/eth0')?.ips, [v4, v6], 'both persisted');

    const view = await podView('a');
    assert.deepEqual(
      view.global.map((x) => [`${x.local}/${x.prefixlen}`, x.nodad === true, x.tentative === true]),
      [
        [`${v4}/24`, false, false],
        [`${v6}/64`, true, false],
      ],
      'IPv6 added nodad, usable at once',
    );
    assert.deepEqual(
      view.routes6.map((x) => [x.gateway, x.dev]),
      [[GW6, 'eth0']],
    );
    assert.ok(await node.ping(GW4, 'a'), 'pod → IPv4 gateway');
    assert.ok(await node.ping(GW6, 'a'), 'pod → IPv6 gateway (ping -6)');
    assert.ok(await node.ping(v6), 'node → pod over IPv6');

    await node.runtime.check(a, r);
    await ip(['-n', node.podName('a'), '-6', 'route', 'del', 'default']);
    const noRoute = await checkError(a, r);
    assert.equal(noRoute.details, `default route via ${GW6} missing in ${netns}`);
    await ip(['-n', node.podName('a'), 'addr', 'del', `${v6}/64`, 'dev', 'eth0']);
    const noAddr = await checkError(a, r);
    assert.match(noAddr.details, new RegExp(`address ${v6}/64 missing on eth0 \\(has ${v4}/24\\)`));

    await node.delTwice(a, r); // both addresses released, the veth gone
    await node.deletePod('a');
  });

  it('a pod netns that disables IPv6 on new interfaces: ADD enables it on the pod interface only', async () => {
    const netns = await node.createPod('nov6');
    const pod = node.podName('nov6');
    await execFileP('ip', [
      'netns',
      'exec',
      pod,
      'sysctl',
      '-q',
      '-w',
      'net.ipv6.conf.default.disable_ipv6=1',
    ]);
    await ip(['-n', pod, 'link', 'add', 'other0', 'type', 'veth', 'peer', 'name', 'other1']);
    const a = { containerId: 'ctr-ds-nov6', netns };
    const r = (await node.runtime.add(a)) as AddResult;
    const sysctl = async (key: string) =>
      (await execFileP('ip', ['netns', 'exec', pod, 'sysctl', '-n', key])).stdout.trim();
    assert.equal(await sysctl('net.ipv6.conf.eth0.disable_ipv6'), '0');
    assert.equal(await sysctl('net.ipv6.conf.default.disable_ipv6'), '1', 'the netns default is left alone');
    assert.equal(await sysctl('net.ipv6.conf.other0.disable_ipv6'), '1', 'other interfaces are left alone');
    assert.ok(await node.ping(GW6, 'nov6'));
    await node.runtime.check(a, r);
    await node.runtime.del(a, r);
    await node.deletePod('nov6');
  });

  it('GC releases both addresses of what is no longer valid; STATUS and metrics count pods, not /64s', async () => {
    const keep = { containerId: 'ctr-ds-keep', netns: await node.createPod('keep') };
    const drop = { containerId: 'ctr-ds-drop', netns: await node.createPod('drop') };
    const rKeep = (await node.runtime.add(keep)) as AddResult;
    await node.runtime.add(drop);
    assert.equal((await allocations()).get('ctr-ds-drop/eth0')?.ips.length, 2);
    // Called at 1.1.0 directly: the reference portmap keeps the conflist at 1.0.0 (no GC).
    const v110 = { cniVersion: '1.1.0' };
    await node.runtime.invoke('GC', weftConf(), undefined, undefined, {
      ...v110,
      'cni.dev/valid-attachments': [{ containerID: keep.containerId, ifname: 'eth0' }],
    });
    const left = await allocations();
    assert.deepEqual([...left.keys()], ['ctr-ds-keep/eth0']);
    assert.deepEqual(left.get('ctr-ds-keep/eth0')?.ips, addressesOf(rKeep));
    assert.ok(
      !(await node.hostVeths()).includes(hostVethName({ containerId: drop.containerId, ifname: 'eth0' })),
    );
    await node.runtime.invoke('STATUS', weftConf(), undefined, undefined, v110);
    const metrics = await node.registry.metrics();
    assert.match(metrics, /weft_ipam_allocated\{network="weft"\} 1\b/);
    assert.match(metrics, /weft_ipam_capacity\{network="weft"\} 253\b/);
    await node.runtime.check(keep, rKeep);
    await node.runtime.del(keep, rKeep);
    await node.deletePod('keep');
    await node.deletePod('drop');
  });

  it('an agent restart (SIGKILL) keeps both addresses of every attachment', async () => {
    await node.stopServer();
    try {
      await node.startChildAgent();
      const first = { containerId: 'ctr-ds-r1', netns: await node.createPod('r1') };
      const r1 = (await node.runtime.add(first)) as AddResult;
      await node.killChildAgent();
      await node.startChildAgent();
      await node.runtime.check(first, r1); // checks IPAM's record too
      const second = { containerId: 'ctr-ds-r2', netns: await node.createPod('r2') };
      const r2 = (await node.runtime.add(second)) as AddResult;
      const [a4, a6] = addressesOf(r1);
      const [b4, b6] = addressesOf(r2);
      assert.ok(a4 !== b4 && a6 !== b6, `no address handed out twice: ${[a4, a6, b4, b6].join(' ')}`);
      assert.deepEqual((await allocations()).get('ctr-ds-r1/eth0')?.ips, [a4, a6]);
      assert.ok(await node.ping(b6, 'r1'), 'pod → pod over IPv6');
      await node.runtime.del(first, r1);
      await node.runtime.del(second, r2);
      assert.equal((await allocations()).size, 0);
      await node.killChildAgent();
    } finally {
      await node.deletePod('r1');
      await node.deletePod('r2');
      await node.startServer();
    }
  });
});
