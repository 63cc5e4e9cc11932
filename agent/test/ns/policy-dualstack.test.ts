/**
 * NetworkPolicy for dual-stack pods on a real kernel: one node netns programmed
 * by the real Datapath (table inet weft with the compiled policy part), pods as
 * netns on its bridge with an IPv4 and an IPv6 address each, TCP echo peers
 * listening on both families. The bridge's and pods' IPv6 addresses are set by
 * hand here (what the CNI and datapath do for IPv4). Everything is named
 * wtnd-… and removed afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Datapath } from '../../src/datapath/datapath.js';
import { testConfig } from '../../src/datapath/test-fixtures.js';
import { parseNetworkPolicy, parsePod } from '../../src/policy/parse.js';
import type { NetworkPolicy, PolicyPod } from '../../src/policy/types.js';
import { NetnsSet, nsIpJson, nsRun, run } from './netns-helpers.js';
import { dropped, lastNftUpdate, nodeDatapath, Peers, PolicyNode } from './policy-fixture.js';

const config = testConfig('hostgw', { networkPolicy: true });
const self = { name: 'n1', underlayIP: '192.168.72.1', podCIDRs: ['10.244.1.0/24', 'fd00:10:244:1::/64'] };
const NAMESPACES = new Map([['default', { name: 'default', labels: {} }]]);
const GW6 = 'fd00:10:244:1::1';
const V4 = { a: '10.244.1.10', b: '10.244.1.11', c: '10.244.1.12', d: '10.244.1.13' } as const;
const V6 = {
  a: 'fd00:10:244:1::a',
  b: 'fd00:10:244:1::b',
  c: 'fd00:10:244:1::c',
  d: 'fd00:10:244:1::d',
} as const;
type Pod = keyof typeof V4;

const podOf = (name: Pod, app: string, ports: object[] = []): PolicyPod =>
  parsePod({
    metadata: { namespace: 'default', name, labels: { app } },
    spec: { nodeName: 'n1', containers: [{ ports }] },
    status: { podIPs: [{ ip: V4[name] }, { ip: V6[name] }] },
  });
let seq = 0;
const policy = (spec: object): NetworkPolicy =>
  parseNetworkPolicy({ metadata: { namespace: 'default', name: `ds${seq++}` }, spec });
const APP = (app: string) => ({ matchLabels: { app } });
const ns = (name: Pod) => `wtnd-${name}`;

/** The link-local address of a pod's eth0, scoped ("fe80::…%eth0"), once duplicate address detection is done. */
async function linkLocalOf(pod: string): Promise<string> {
  const args = ['-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'link'];
  for (let i = 0; i < 50; i++) {
    const [link] = await nsIpJson<{ addr_info: { local?: string; tentative?: boolean }[] }>(pod, args);
    const address = link?.addr_info.find((a) => a.local?.startsWith('fe80:') && !a.tentative)?.local;
    if (address) return `${address}%eth0`;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${pod}: no usable link-local address on eth0`);
}

describe('NetworkPolicy for dual-stack pods on a real kernel (namespaces)', { timeout: 120_000 }, () => {
  const set = new NetnsSet('wtnd');
  const peers = new Peers();
  const pods = [
    podOf('a', 'web', [{ name: 'http', containerPort: 8080 }]),
    podOf('b', 'client'),
    podOf('c', 'other'),
  ];
  const fixture = new PolicyNode(set, self, config, NAMESPACES, pods);
  let node: string;
  let datapath: Datapath;
  const enforce = (policies: NetworkPolicy[], dp = datapath) => fixture.enforce(policies, dp);

  /** Connects over both families: [IPv4, IPv6] results. */
  const both = (from: string, to: Pod, port: number) =>
    Promise.all([peers.connects(from, V4[to], port), peers.connects(from, V6[to], port)]);

  const addPod = (name: Pod) =>
    fixture.addPod(name, [
      `addr add ${V4[name]}/24 dev eth0`,
      `addr add ${V6[name]}/64 dev eth0 nodad`,
      'route add default via 10.244.1.1',
      `route add default via ${GW6}`,
    ]);

  before(async () => {
    await set.cleanup();
    datapath = await fixture.start();
    node = fixture.node;
    // The datapath gives the bridge the first address of each podCIDR (the pods' gateways).
    const [bridge] = await nsIpJson<{ addr_info: { local?: string; prefixlen?: number }[] }>(node, [
      '-6',
      'addr',
      'show',
      'dev',
      'weft0',
      'scope',
      'global',
    ]);
    assert.deepEqual(
      bridge?.addr_info.map((a) => `${a.local}/${a.prefixlen}`),
      [`${GW6}/64`],
    );
    for (const name of ['a', 'b', 'c'] as const) await addPod(name);
    await peers.serve(ns('a'), [8080, 8081]);
    await peers.serve(ns('c'), [8080]);
  });
  after(async () => {
    peers.killAll();
    await set.cleanup();
  });

  it('without policies pods reach each other over both families; bridged IPv6 passes the forward hook', async () => {
    await enforce([]);
    const nf = await nsRun(node, 'sysctl', ['-n', 'net.bridge.bridge-nf-call-ip6tables']);
    assert.equal(nf.trim(), '1');
    assert.deepEqual(await both(ns('b'), 'a', 8080), [true, true]);
    assert.deepEqual(await both(ns('c'), 'a', 8081), [true, true]);
  });

  it('default deny ingress blocks both families and counts both; the node itself passes', async () => {
    const before = await dropped(node, 'ingress');
    await enforce([policy({ podSelector: {}, policyTypes: ['Ingress'] })]);
    assert.deepEqual(await both(ns('b'), 'a', 8080), [false, false]);
    const afterV4 = await dropped(node, 'ingress');
    assert.ok(afterV4 > before);
    assert.ok(!(await peers.connects(ns('c'), V6.a, 8081)), 'IPv6 alone');
    assert.ok((await dropped(node, 'ingress')) > afterV4, 'IPv6 drops are counted');
    assert.ok(await peers.connects(node, V6.a, 8080), 'the node → web over IPv6 (kubelet probes)');
  });

  it('an isolated pod is not reachable at its link-local address: link-local unicast does not cross the bridge', async () => {
    await enforce([policy({ podSelector: APP('web'), policyTypes: ['Ingress'] })]);
    assert.ok(!(await peers.connects(ns('b'), await linkLocalOf(ns('a')), 8080)), 'b → web at fe80::…%eth0');
    assert.ok(
      !(await peers.connects(ns('b'), await linkLocalOf(ns('c')), 8080)),
      'b → other at fe80::…%eth0',
    );
    assert.ok(await peers.connects(ns('b'), V6.c, 8080), 'b → other at its pod IP');
  });

  it('allow from a podSelector admits both families of the selected pod, neither of another; the kernel reads back what was written', async () => {
    await enforce([
      policy({ podSelector: APP('web'), ingress: [{ from: [{ podSelector: APP('client') }] }] }),
    ]);
    assert.deepEqual(await both(ns('b'), 'a', 8080), [true, true], 'client');
    assert.deepEqual(await both(ns('c'), 'a', 8080), [false, false], 'other');
    assert.ok(
      await peers.connects(ns('a'), V6.c, 8080),
      'web → other: egress not isolated, the reply passes',
    );
    await datapath.sync(self, [], config);
    assert.deepEqual(datapath.lastPlan, [], 'observed IPv6 sets and maps equal the desired ones');
  });

  it('an IPv6 ipBlock with except admits only its range, and no IPv4', async () => {
    await enforce([
      policy({
        podSelector: APP('web'),
        ingress: [{ from: [{ ipBlock: { cidr: 'fd00:10:244:1::/120', except: [`${V6.c}/128`] } }] }],
      }),
    ]);
    assert.ok(await peers.connects(ns('b'), V6.a, 8080), 'inside the block');
    assert.ok(!(await peers.connects(ns('c'), V6.a, 8080)), 'the except hole');
    assert.deepEqual(await both(ns('b'), 'a', 8081), [false, true], 'the IPv6 block admits no IPv4');
  });

  it('a policy change re-judges established IPv6 connections: the newly denied stops, the allowed continues', async () => {
    const client = { podSelector: APP('client') };
    await enforce([policy({ podSelector: APP('web'), ingress: [{ from: [client] }] })]);
    const kept = await peers.openStream(ns('b'), V6.a, 8080);
    const cut = await peers.openStream(ns('b'), V6.a, 8081);
    assert.equal(await kept.send(), 'ok');
    assert.equal(await cut.send(), 'ok');
    await enforce([
      policy({ podSelector: APP('web'), ingress: [{ from: [client], ports: [{ port: 8080 }] }] }),
    ]);
    assert.deepEqual(
      (datapath.lastPlan ?? []).map((o) => o.op),
      ['nft-update'],
      'applied as an update, not a table rewrite',
    );
    assert.equal(await kept.send(), 'ok', 'still allowed: continues');
    assert.equal(await cut.send(), 'timeout', 'newly denied: stops');
  });

  it('a pod event changes set elements of both families only (no chain rewritten)', async () => {
    const p = policy({ podSelector: APP('web'), ingress: [{ from: [{ podSelector: APP('client') }] }] });
    await enforce([p]);
    await addPod('d');
    assert.deepEqual(await both(ns('d'), 'a', 8080), [false, false], 'not yet known as a client');
    pods.push(podOf('d', 'client'));
    await enforce([p]);
    const script = lastNftUpdate(datapath);
    assert.match(script, /^add element inet weft pe_\w+ \{ 10\.244\.1\.13\/32 \}$/m);
    assert.match(script, /^add element inet weft pe6_\w+ \{ fd00:10:244:1::d\/128 \}$/m);
    assert.doesNotMatch(script, /chain|delete table/);
    assert.deepEqual(await both(ns('d'), 'a', 8080), [true, true], 'a client now');
  });

  it('egress over IPv6: only to the allowed pod and port, pod → node is egress too; neighbour discovery passes', async () => {
    const before = await dropped(node, 'egress');
    await enforce([
      policy({
        podSelector: APP('client'),
        policyTypes: ['Egress'],
        egress: [{ to: [{ podSelector: APP('web') }], ports: [{ port: 8080 }] }],
      }),
    ]);
    // Forget every neighbour: the isolated pods must resolve (and answer) over ND again.
    for (const n of [node, ns('a'), ns('b')]) await run('ip', ['-n', n, '-6', 'neigh', 'flush', 'all']);
    assert.deepEqual(await both(ns('b'), 'a', 8080), [true, true]);
    assert.ok(!(await peers.connects(ns('b'), V6.a, 8081)));
    assert.ok(!(await peers.connects(ns('b'), V6.c, 8080)));
    assert.ok(!(await peers.connects(ns('b'), GW6, 9)), 'to the node over IPv6 (input hook)');
    assert.ok(await peers.connects(ns('c'), V6.a, 8081), 'pods the policy does not select are free');
    assert.ok((await dropped(node, 'egress')) > before);
  });

  it('a restarted agent keeps the IPv6 rules in force until its policy engine has synced', async () => {
    await enforce([policy({ podSelector: APP('web'), policyTypes: ['Ingress'] })]);
    assert.deepEqual(await both(ns('b'), 'a', 8080), [false, false]);
    const restarted = nodeDatapath(node);
    await restarted.sync(self, [], config);
    assert.deepEqual(restarted.lastPlan, [], 'nothing to change while the policy part is pending');
    assert.deepEqual(await both(ns('b'), 'a', 8080), [false, false], 'still denied over both');
    await enforce([], restarted);
    assert.deepEqual(await both(ns('b'), 'a', 8080), [true, true], 'the synced engine lifts it');
  });
});
