/**
 * NetworkPolicy on a real kernel: one node netns programmed by the real Datapath
 * (table inet weft with the compiled policy part), pods as netns on its bridge,
 * TCP echo peers in the pods. Everything is named wtnp-… and removed afterwards.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../../../common/log.js';
import { cmdAdd } from '../../src/cni/cmd-add.js';
import type { CniContext } from '../../src/cni/context.js';
import { CniError } from '../../src/cni/errors.js';
import { createIpRunner } from '../../src/cni/ip-runner.js';
import { ipamStatePath } from '../../src/cni/ipam.js';
import { IpamSet } from '../../src/cni/ipam-set.js';
import { AttachmentLock } from '../../src/cni/keyed-lock.js';
import { testNetConf } from '../../src/cni/test-fixtures.js';
import { VethPlumbing } from '../../src/cni/veth-plumbing.js';
import type { Datapath } from '../../src/datapath/datapath.js';
import { testConfig } from '../../src/datapath/test-fixtures.js';
import { PolicyEngine } from '../../src/policy/engine.js';
import { EnginePodGate } from '../../src/policy/gate.js';
import { PolicyMetrics } from '../../src/policy/metrics.js';
import { parseNetworkPolicy, parsePod } from '../../src/policy/parse.js';
import { PolicyStore } from '../../src/policy/store.js';
import type { NetworkPolicy, PolicyPod } from '../../src/policy/types.js';
import { NetnsSet, nsRun } from './netns-helpers.js';
import { dropped as droppedOn, lastNftUpdate, nodeDatapath, Peers, PolicyNode } from './policy-fixture.js';

const config = testConfig('hostgw', { networkPolicy: true });
const self = { name: 'n1', underlayIP: '192.168.71.1', podCIDRs: ['10.244.1.0/24'] };
const NAMESPACES = new Map([
  ['default', { name: 'default', labels: { 'kubernetes.io/metadata.name': 'default' } }],
]);
const IP = { a: '10.244.1.10', b: '10.244.1.11', c: '10.244.1.12', d: '10.244.1.13' } as const;

const podOf = (name: keyof typeof IP, app: string, ports: object[] = []): PolicyPod =>
  parsePod({
    metadata: { namespace: 'default', name, labels: { app } },
    spec: { nodeName: 'n1', containers: [{ ports }] },
    status: { podIPs: [{ ip: IP[name] }] },
  });
let seq = 0;
const policy = (spec: object): NetworkPolicy =>
  parseNetworkPolicy({ metadata: { namespace: 'default', name: `np${seq++}` }, spec });

describe('NetworkPolicy on a real kernel (namespaces)', { timeout: 120_000 }, () => {
  const set = new NetnsSet('wtnp');
  const peers = new Peers();
  const pods: PolicyPod[] = [
    podOf('a', 'web', [{ name: 'http', containerPort: 8080 }]),
    podOf('b', 'client'),
    podOf('c', 'other'),
  ];
  const fixture = new PolicyNode(set, self, config, NAMESPACES, pods);
  const serve = peers.serve.bind(peers);
  const connects = peers.connects.bind(peers);
  const openStream = peers.openStream.bind(peers);
  let node: string;
  let datapath: Datapath;
  const enforce = (policies: NetworkPolicy[], dp = datapath) => fixture.enforce(policies, dp);
  const addPod = (name: keyof typeof IP) =>
    fixture.addPod(name, [`addr add ${IP[name]}/24 dev eth0`, 'route add default via 10.244.1.1']);

  const dropped = (direction: 'ingress' | 'egress') => droppedOn(node, direction);

  before(async () => {
    await set.cleanup();
    // The underlay: a veth to a namespace standing for the rest of the network.
    datapath = await fixture.start();
    node = fixture.node;
    for (const name of ['a', 'b', 'c'] as const) await addPod(name);
    await serve(`wtnp-a`, [8080, 8081]);
    await serve(`wtnp-c`, [8080]);
  });
  after(async () => {
    peers.killAll();
    await set.cleanup();
  });

  it('without policies pods reach each other across the bridge, and bridged traffic passes the forward hook', async () => {
    await enforce([]);
    assert.equal((await nsRun(node, 'sysctl', ['-n', 'net.bridge.bridge-nf-call-iptables'])).trim(), '1');
    assert.ok(await connects('wtnp-b', IP.a, 8080));
    assert.ok(await connects('wtnp-c', IP.a, 8081));
  });

  it('ingress: a named port for one selector; others dropped and counted; the node itself and replies pass', async () => {
    const before = await dropped('ingress');
    await enforce([
      policy({
        podSelector: { matchLabels: { app: 'web' } },
        ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }], ports: [{ port: 'http' }] }],
      }),
    ]);
    assert.ok(await connects('wtnp-b', IP.a, 8080), 'client → web:http');
    assert.ok(!(await connects('wtnp-b', IP.a, 8081)), 'client → web:8081');
    assert.ok(!(await connects('wtnp-c', IP.a, 8080)), 'other → web');
    assert.ok(await connects(node, IP.a, 8080), 'the node → web (kubelet probes)');
    assert.ok(await connects('wtnp-a', IP.c, 8080), 'web → other: egress not isolated, the reply passes');
    assert.ok((await dropped('ingress')) > before);
  });

  it('a policy change re-judges established connections: the newly denied stops, the allowed continues', async () => {
    const client = { podSelector: { matchLabels: { app: 'client' } } };
    await enforce([policy({ podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [client] }] })]);
    const kept = await openStream('wtnp-b', IP.a, 8080);
    const cut = await openStream('wtnp-b', IP.a, 8081);
    assert.equal(await kept.send(), 'ok');
    assert.equal(await cut.send(), 'ok');
    await enforce([
      policy({
        podSelector: { matchLabels: { app: 'web' } },
        ingress: [{ from: [client], ports: [{ port: 8080 }] }],
      }),
    ]);
    const plan = datapath.lastPlan ?? [];
    assert.deepEqual(
      plan.map((o) => o.op),
      ['nft-update'],
      'applied as an update, not a table rewrite',
    );
    assert.equal(await kept.send(), 'ok', 'still allowed: continues');
    assert.equal(await cut.send(), 'timeout', 'newly denied: stops');
  });

  it('a pod event changes set elements only (no chain rewritten)', async () => {
    const p = policy({
      podSelector: { matchLabels: { app: 'web' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }] }],
    });
    await enforce([p]);
    const d = await addPod('d');
    assert.ok(!(await connects(d, IP.a, 8080)), 'not yet known as a client');
    pods.push(podOf('d', 'client'));
    await enforce([p]);
    const script = lastNftUpdate(datapath);
    assert.match(script, /^add element inet weft pe_\w+ \{ 10\.244\.1\.13\/32 \}$/m);
    assert.doesNotMatch(script, /chain|delete table/);
    assert.ok(await connects(d, IP.a, 8080), 'a client now');
  });

  it('egress: only to the allowed pod and port; pod → node is egress too', async () => {
    const before = await dropped('egress');
    await enforce([
      policy({
        podSelector: { matchLabels: { app: 'client' } },
        policyTypes: ['Egress'],
        egress: [{ to: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 8080 }] }],
      }),
    ]);
    assert.ok(await connects('wtnp-b', IP.a, 8080));
    assert.ok(!(await connects('wtnp-b', IP.a, 8081)));
    assert.ok(!(await connects('wtnp-b', IP.c, 8080)));
    assert.ok(!(await connects('wtnp-b', '10.244.1.1', 9)), 'to the node (input hook)');
    assert.ok(await connects('wtnp-c', IP.a, 8081), 'pods the policy does not select are free');
    assert.ok((await dropped('egress')) > before);
  });

  it('a restarted agent keeps the rules in force until its policy engine has synced', async () => {
    await enforce([policy({ podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'] })]);
    assert.ok(!(await connects('wtnp-b', IP.a, 8080)));
    const restarted = nodeDatapath(node);
    await restarted.sync(self, [], config);
    assert.deepEqual(restarted.lastPlan, [], 'nothing to change while the policy part is pending');
    assert.ok(!(await connects('wtnp-b', IP.a, 8080)), 'still denied');
    await enforce([], restarted);
    assert.ok(await connects('wtnp-b', IP.a, 8080), 'the synced engine lifts it');
  });

  it('CNI ADD under deny-all returns only once the pod drop verdict is in the kernel; a refused ADD leaves nothing', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'wtnp-ipam-'));
    const ipRunner = createIpRunner({ hostNetns: node });
    const ac = new AbortController();
    const store = new PolicyStore();
    // The reconcile loop reduced to what the engine uses: serial passes, numbered, with listeners.
    const listeners = new Set<(r: unknown, v: unknown, pass: number) => void>();
    let passes = 0;
    let tail = Promise.resolve();
    const loop = {
      get passesStarted() {
        return passes;
      },
      onSynced: (l: (r: unknown, v: unknown, pass: number) => void) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
      trigger: () => {
        tail = tail.then(async () => {
          const pass = ++passes;
          await datapath.sync(self, [], config, { trustLastApplied: true });
          for (const l of [...listeners]) l(undefined, undefined, pass);
        });
      },
    };
    const engine = new PolicyEngine({
      nodeName: 'n1',
      store,
      setPolicy: (c) => datapath.setPolicy(c),
      loop,
      metrics: new PolicyMetrics(new Registry(), async () => new Map()),
      log: silentLogger(),
      sctp: true,
    });
    const running = engine.run(ac.signal);
    const ctx: CniContext = {
      localNetwork: () => ({
        nodeName: 'n1',
        podCIDRs: self.podCIDRs,
        clusterCIDRs: [],
        bridge: 'weft0',
        mtu: 1450,
      }),
      ipams: new IpamSet(stateDir),
      plumbing: new VethPlumbing(ipRunner),
      locks: new AttachmentLock(),
      podGate: new EnginePodGate({ engine, store, signal: ac.signal }),
      log: silentLogger(),
    };
    const conf = testNetConf();
    const netns = `/var/run/netns/${await set.create('e')}`;
    const add = { containerId: 'ctr-e', ifname: 'eth0', netns, pod: { namespace: 'default', name: 'e' } };
    const ingressMap = async () => nsRun(node, 'nft', ['list', 'map', 'inet', 'weft', 'pol_ingress']);
    try {
      const refused = await cmdAdd(ctx, conf, add).then(
        () => assert.fail('ADD before the engine synced'),
        (e: unknown) => e,
      );
      assert.ok(refused instanceof CniError && refused.cniCode === 11, String(refused));
      assert.match(refused.message, /network policy not synced/);
      const onDisk = JSON.parse(await readFile(ipamStatePath(stateDir, 'weft'), 'utf8'));
      assert.deepEqual(onDisk.allocations, [], 'the address is released');
      assert.doesNotMatch(await nsRun(node, 'ip', ['-o', 'link', 'show', 'type', 'veth']), /weft[0-9a-f]{8}/);

      store.replaceAll('namespaces', NAMESPACES);
      store.replaceAll('networkpolicies', new Map([['default/deny', policy({ podSelector: {} })]]));
      store.replaceAll('pods', new Map([['default/e', { ...podOf('a', 'e'), name: 'e', ips: [] }]]));
      const result = (await cmdAdd(ctx, conf, add)) as { ips: { address: string }[] };
      const ip = result.ips[0]?.address.split('/')[0] ?? '';
      assert.match(
        await ingressMap(),
        new RegExp(`${ip.replaceAll('.', '\\.')} : jump in_`),
        'isolated on return',
      );
    } finally {
      ac.abort();
      await running;
      await tail.catch(() => undefined);
      ipRunner.close();
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
