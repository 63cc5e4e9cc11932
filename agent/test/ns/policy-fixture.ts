/**
 * What the NetworkPolicy namespace tests share: a node netns programmed by the
 * real Datapath, TCP echo peers (policy-peer.ts) in pod namespaces, and the
 * drop counters. Not a test file itself.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { silentLogger } from '../../../common/log.js';
import { Datapath } from '../../src/datapath/datapath.js';
import { Netlink } from '../../src/datapath/netlink.js';
import type { DatapathConfig, SelfNode } from '../../src/datapath/types.js';
import { compilePolicies } from '../../src/policy/compile.js';
import type { NetworkPolicy, PolicyNamespace, PolicyPod } from '../../src/policy/types.js';
import { addVethPair, type NetnsSet, nsIpBatch, nsRun, run } from './netns-helpers.js';

const PEER = fileURLToPath(new URL('./policy-peer.js', import.meta.url));

/** A Datapath for the node namespace (a new one is what a restarted agent has). */
export const nodeDatapath = (node: string): Datapath =>
  new Datapath({ netlink: new Netlink({ netns: node }), registry: new Registry(), log: silentLogger() });

/** The node namespace `<prefix>-n1` with its underlay (a veth to `<prefix>-ul`) at `underlayIP`/24. */
export async function createNode(set: NetnsSet, underlayIP: string): Promise<string> {
  const node = await set.create('n1');
  await addVethPair(node, 'eth0', await set.create('ul'), 'eth0');
  await nsIpBatch(node, [`addr add ${underlayIP}/24 dev eth0`]);
  return node;
}

/**
 * The node under test: its namespace and Datapath (after `start()`), the pods
 * policies are compiled for (tests push to `pods`), pod namespaces on its bridge.
 */
export class PolicyNode {
  node = '';
  datapath: Datapath | undefined;
  readonly pods: PolicyPod[];

  constructor(
    readonly set: NetnsSet,
    readonly self: SelfNode,
    readonly config: DatapathConfig,
    readonly namespaces: ReadonlyMap<string, PolicyNamespace>,
    pods: PolicyPod[],
  ) {
    this.pods = pods;
  }

  async start(): Promise<Datapath> {
    this.node = await createNode(this.set, this.self.underlayIP);
    this.datapath = nodeDatapath(this.node);
    await this.datapath.sync(this.self, [], this.config);
    return this.datapath;
  }

  /** Compiles `pods` with `policies` and applies the result with one sync, as the engine and loop do. */
  async enforce(policies: NetworkPolicy[], dp = this.datapath as Datapath) {
    const compiled = compilePolicies({
      nodeName: this.self.name,
      pods: this.pods,
      namespaces: this.namespaces,
      policies,
      sctp: true,
    });
    dp.setPolicy(compiled.content);
    await dp.sync(this.self, [], this.config, { trustLastApplied: true });
    return compiled;
  }

  /** A pod namespace `<prefix>-<name>` on the bridge (host veth vp<name>), `ip` lines run inside it. */
  async addPod(name: string, ipLines: string[]): Promise<string> {
    const ns = await this.set.create(name);
    await addVethPair(ns, 'eth0', this.node, `vp${name}`);
    await run('ip', ['-n', this.node, 'link', 'set', `vp${name}`, 'master', 'weft0']);
    await nsIpBatch(ns, ipLines);
    return ns;
  }
}

/** The script of the datapath's last plan, which must have been an nft update (elements, chains), no rewrite. */
export function lastNftUpdate(dp: Datapath): string {
  const op = dp.lastPlan?.[0];
  assert.equal(op?.op, 'nft-update');
  return op?.op === 'nft-update' ? op.script : '';
}

/** Packets the named drop counter of the node's policy part has counted. */
export async function dropped(node: string, direction: 'ingress' | 'egress'): Promise<number> {
  const out = await nsRun(node, 'nft', ['-j', 'list', 'counter', 'inet', 'weft', `pol_drop_${direction}`]);
  return (JSON.parse(out) as { nftables: { counter?: { packets: number } }[] }).nftables.find(
    (i) => i.counter,
  )?.counter?.packets as number;
}

/** The echo peers the tests run in pod namespaces; `killAll()` in `after`. */
export class Peers {
  readonly #children: ChildProcess[] = [];

  #spawn(ns: string, args: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, PEER, ...args], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.#children.push(child);
    return child;
  }

  /** Echo servers on `ports` (both families) in `ns`, once they listen. */
  async serve(ns: string, ports: number[]): Promise<void> {
    const child = this.#spawn(ns, ['serve', ...ports.map(String)]);
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    await new Promise<void>((resolve) => lines.once('line', () => resolve()));
  }

  /** True when a new TCP connection from `ns` to ip:port gets its echo. */
  connects(ns: string, ip: string, port: number): Promise<boolean> {
    const child = this.#spawn(ns, ['probe', ip, String(port), '800']);
    return new Promise((resolve) => child.on('exit', (code) => resolve(code === 0)));
  }

  /** A long-lived connection; `send()` resolves "ok" when the echo comes back within 1 s. */
  async openStream(ns: string, ip: string, port: number) {
    const child = this.#spawn(ns, ['stream', ip, String(port)]);
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const next = () => new Promise<string>((resolve) => lines.once('line', resolve));
    assert.equal(await next(), 'connected');
    return {
      send: async () => {
        child.stdin?.write('x\n');
        return next();
      },
    };
  }

  killAll(): void {
    for (const c of this.#children) c.kill('SIGKILL');
  }
}
