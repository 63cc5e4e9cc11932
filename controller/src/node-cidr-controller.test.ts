import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Node } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { parseCidr } from '../../common/cidr.js';
import { silentLogger } from '../../common/log.js';
import { Ipv4PodCidrAllocator, type PodCidrAllocator } from './cidr-allocator.js';
import { createControllerMetrics } from './metrics.js';
import { parseControllerNetConf } from './net-conf.js';
import { type NodeApi, NodeCidrController, podCidrsOfNode } from './node-cidr-controller.js';
import { createPodCidrAllocators } from './pod-cidr-allocators.js';
import type { CachedInformer } from './restarting-informer.js';

function dualStack(clusterCIDRs: string[]): PodCidrAllocator[] {
  return createPodCidrAllocators(parseControllerNetConf(JSON.stringify({ clusterCIDRs })));
}

class ApiError extends Error {
  constructor(readonly code: number) {
    super(`HTTP ${code}`);
  }
}

type Handler = (arg: unknown) => void;

/** The API server's Node collection plus informers that follow it (unit-test fake). */
class FakeNodes {
  readonly nodes = new Map<string, V1Node>();
  readonly patches: Array<{ name: string; cidrs: readonly string[] }> = [];
  informers: Array<{ handlers: Map<string, Handler[]>; stopped: boolean }> = [];
  version = 1;
  /** called before a patch is applied; may change the store (a racing writer) */
  beforePatch: ((name: string) => void) | undefined;

  put(name: string, podCIDR?: string | readonly string[], uid = `uid-${name}`): void {
    const podCIDRs = podCIDR === undefined ? [] : typeof podCIDR === 'string' ? [podCIDR] : [...podCIDR];
    const node: V1Node = {
      metadata: { name, uid, resourceVersion: String(++this.version) },
      spec: podCIDRs.length === 0 ? {} : { podCIDR: podCIDRs[0] ?? '', podCIDRs },
    };
    const verb = this.nodes.has(name) ? 'update' : 'add';
    this.nodes.set(name, node);
    this.#emit(verb, node);
  }

  remove(name: string): void {
    const node = this.nodes.get(name);
    this.nodes.delete(name);
    if (node !== undefined) this.#emit('delete', node);
  }

  failInformer(): void {
    this.#emit('error', new ApiError(500));
  }

  api(): NodeApi {
    return {
      read: async (name) => structuredClone(this.nodes.get(name)),
      patchPodCidrs: async (name, resourceVersion, cidrs) => {
        this.beforePatch?.(name);
        const node = this.nodes.get(name);
        if (node === undefined) throw new ApiError(404);
        if (node.metadata?.resourceVersion !== resourceVersion) throw new ApiError(409);
        if (podCidrsOfNode(node).length > 0) throw new ApiError(422);
        this.patches.push({ name, cidrs });
        const patched: V1Node = {
          ...node,
          metadata: { ...node.metadata, resourceVersion: String(++this.version) },
          spec: { podCIDR: cidrs[0] ?? '', podCIDRs: [...cidrs] },
        };
        this.nodes.set(name, patched);
        this.#emit('update', patched);
        return structuredClone(patched);
      },
    };
  }

  makeInformer = (): CachedInformer<V1Node> => {
    const handlers = new Map<string, Handler[]>();
    const entry = { handlers, stopped: false };
    this.informers.push(entry);
    const informer = {
      on: (verb: string, cb: Handler) => handlers.set(verb, [...(handlers.get(verb) ?? []), cb]),
      off: () => undefined,
      start: async () => {
        for (const node of this.nodes.values()) for (const cb of handlers.get('add') ?? []) cb(node);
      },
      stop: async () => {
        entry.stopped = true;
      },
      get: (name: string) => this.nodes.get(name),
      list: () => [...this.nodes.values()],
    };
    return informer as unknown as CachedInformer<V1Node>;
  };

  #emit(verb: string, arg: unknown): void {
    const live = this.informers.filter((i) => !i.stopped);
    // the watch delivers events asynchronously
    setImmediate(() => {
      for (const i of live) for (const cb of i.handlers.get(verb) ?? []) cb(arg);
    });
  }

  podCidr(name: string): string | undefined {
    return this.nodes.get(name)?.spec?.podCIDR;
  }
}

async function waitFor(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 2000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function start(
  fake: FakeNodes,
  clusterCidr = '10.244.0.0/16',
  mask = 24,
  allocators: readonly PodCidrAllocator[] = [new Ipv4PodCidrAllocator([parseCidr(clusterCidr)], mask)],
) {
  const registry = new Registry();
  const metrics = createControllerMetrics(registry, { version: 'test' });
  const controller = new NodeCidrController({
    nodes: fake.api(),
    makeInformer: fake.makeInformer,
    allocators,
    metrics,
    log: silentLogger(),
    retry: { baseMs: 2, capMs: 10 },
  });
  const abort = new AbortController();
  const done = controller.run(abort.signal);
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
    const v = (m?.values as Array<{ value: number; labels: Record<string, string> }> | undefined)?.find((x) =>
      Object.entries(labels).every(([k, val]) => x.labels[k] === val),
    );
    return v?.value;
  };
  return {
    controller,
    metric,
    stop: async () => {
      abort.abort();
      await done;
    },
  };
}

describe('NodeCidrController', () => {
  it('allocates distinct podCIDRs to Nodes lacking one and never patches a Node that has one', async () => {
    const fake = new FakeNodes();
    fake.put('a', '10.244.0.0/24');
    fake.put('b');
    fake.put('c');
    fake.put('x', '192.168.5.0/24');
    const c = start(fake);
    try {
      await waitFor(
        'b and c allocated',
        () => fake.podCidr('b') !== undefined && fake.podCidr('c') !== undefined,
      );
      assert.deepEqual(
        new Set([fake.podCidr('b'), fake.podCidr('c')]),
        new Set(['10.244.1.0/24', '10.244.2.0/24']),
      );
      assert.deepEqual(fake.patches.map((p) => p.name).sort(), ['b', 'c']);
      assert.deepEqual(fake.nodes.get('b')?.spec?.podCIDRs, [fake.podCidr('b')]);
      await waitFor('usage published', () => fake.patches.length === 2);
      assert.equal(await c.metric('weft_controller_cidrs_in_use', { family: 'ipv4' }), 3);
      assert.equal(await c.metric('weft_controller_cidrs_free', { family: 'ipv4' }), 253);
      assert.equal(await c.metric('weft_controller_cidr_allocations_total', { result: 'success' }), 2);
    } finally {
      await c.stop();
    }
  });

  it('re-reads when another writer sets the podCIDR first and keeps theirs', async () => {
    const fake = new FakeNodes();
    fake.put('a');
    fake.beforePatch = (name) => {
      fake.beforePatch = undefined;
      fake.put(name, '10.244.7.0/24'); // e.g. kube-controller-manager won the race
    };
    const c = start(fake);
    try {
      await waitFor(
        "the re-read recorded the other writer's podCIDR",
        async () => (await c.metric('weft_controller_cidrs_in_use', { family: 'ipv4' })) === 1,
      );
      assert.equal(fake.podCidr('a'), '10.244.7.0/24');
      assert.deepEqual(fake.patches, []);
      assert.equal(await c.metric('weft_controller_cidr_allocations_total', { result: 'conflict' }), 1);
      // the one it had tentatively picked is free again
      fake.put('b');
      await waitFor('b allocated', () => fake.podCidr('b') !== undefined);
      assert.equal(fake.podCidr('b'), '10.244.0.0/24');
    } finally {
      await c.stop();
    }
  });

  it('releases a deleted Node and hands its podCIDR to the next Node', async () => {
    const fake = new FakeNodes();
    fake.put('a');
    fake.put('b');
    const c = start(fake);
    try {
      await waitFor('a and b', () => fake.patches.length === 2);
      const freed = fake.podCidr('a');
      fake.remove('a');
      fake.put('c');
      await waitFor('c allocated', () => fake.podCidr('c') !== undefined);
      assert.equal(fake.podCidr('c'), freed);
    } finally {
      await c.stop();
    }
  });

  it('waits when exhausted and allocates once a Node is deleted', async () => {
    const fake = new FakeNodes();
    fake.put('a');
    fake.put('b');
    fake.put('c');
    const c = start(fake, '10.244.0.0/23', 24);
    try {
      await waitFor('exhausted', () => fake.patches.length === 2);
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(fake.patches.length, 2);
      assert.equal(await c.metric('weft_controller_cidr_allocations_total', { result: 'exhausted' }), 1);
      assert.equal(await c.metric('weft_controller_cidrs_free', { family: 'ipv4' }), 0);
      const [first] = fake.patches;
      const waiting = ['a', 'b', 'c'].find((n) => fake.podCidr(n) === undefined) ?? '';
      fake.remove(first?.name ?? '');
      await waitFor('waiting node allocated', () => fake.podCidr(waiting) !== undefined);
      assert.equal(fake.podCidr(waiting), first?.cidrs[0]);
    } finally {
      await c.stop();
    }
  });

  it('restarts a failed informer and rebuilds from the fresh list', async () => {
    const fake = new FakeNodes();
    fake.put('a');
    const c = start(fake);
    try {
      await waitFor('a allocated', () => fake.patches.length === 1);
      fake.failInformer();
      // while the informer is down a Node vanishes and another appears
      fake.remove('a');
      fake.put('b');
      await waitFor('restarted', () => fake.informers.length === 2, 5000);
      await waitFor('b allocated', () => fake.podCidr('b') !== undefined, 5000);
      assert.equal(fake.podCidr('b'), '10.244.0.0/24', 'a was forgotten by the rebuild');
      assert.equal(await c.metric('weft_controller_node_informer_restarts_total'), 1);
      assert.ok(c.controller.synced);
    } finally {
      await c.stop();
    }
  });

  it('treats a re-created Node (same name, new uid) as new', async () => {
    const fake = new FakeNodes();
    fake.put('a');
    fake.put('b', '10.244.0.0/24');
    const c = start(fake);
    try {
      await waitFor('a allocated', () => fake.podCidr('a') !== undefined);
      assert.equal(fake.podCidr('a'), '10.244.1.0/24');
      fake.remove('a');
      fake.put('a', undefined, 'uid-a-2');
      await waitFor('a re-allocated', () => fake.patches.length === 2);
      assert.equal(fake.podCidr('a'), '10.244.1.0/24');
      assert.equal(await c.metric('weft_controller_cidrs_in_use', { family: 'ipv4' }), 2);
    } finally {
      await c.stop();
    }
  });

  it('gives a Node one podCIDR per family in the order of clusterCIDRs', async () => {
    const table: Array<{ clusterCIDRs: string[]; podCIDRs: string[] }> = [
      { clusterCIDRs: ['10.244.0.0/16', 'fd00:10::/48'], podCIDRs: ['10.244.1.0/24', 'fd00:10:0:1::/64'] },
      { clusterCIDRs: ['fd00:10::/48', '10.244.0.0/16'], podCIDRs: ['fd00:10:0:1::/64', '10.244.1.0/24'] },
      { clusterCIDRs: ['fd00:10::/48'], podCIDRs: ['fd00:10:0:1::/64'] },
    ];
    for (const row of table) {
      const fake = new FakeNodes();
      fake.put('a', ['10.244.0.0/24', 'fd00:10::/64']);
      fake.put('b');
      const c = start(fake, undefined, undefined, dualStack(row.clusterCIDRs));
      try {
        await waitFor('b allocated', () => fake.podCidr('b') !== undefined);
        assert.deepEqual(fake.patches, [{ name: 'b', cidrs: row.podCIDRs }], row.clusterCIDRs.join());
        assert.equal(fake.podCidr('b'), row.podCIDRs[0]);
        for (const family of row.clusterCIDRs.map((x) => (x.includes(':') ? 'ipv6' : 'ipv4'))) {
          assert.equal(await c.metric('weft_controller_cidrs_in_use', { family }), 2, family);
        }
      } finally {
        await c.stop();
      }
    }
  });

  it('counts and never patches a Node whose podCIDRs lack a configured family', async () => {
    const fake = new FakeNodes();
    fake.put('old', '10.244.0.0/24'); // allocated before the cluster became dual-stack
    fake.put('new');
    const c = start(fake, undefined, undefined, dualStack(['10.244.0.0/16', 'fd00:10::/48']));
    try {
      await waitFor('new allocated', () => fake.podCidr('new') !== undefined);
      assert.deepEqual(fake.patches, [{ name: 'new', cidrs: ['10.244.1.0/24', 'fd00:10::/64'] }]);
      assert.equal(await c.metric('weft_controller_nodes_missing_podcidr_family', { family: 'ipv6' }), 1);
      assert.equal(await c.metric('weft_controller_nodes_missing_podcidr_family', { family: 'ipv4' }), 0);
      fake.put('old', '10.244.0.0/24'); // an unrelated update: still not patched
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(fake.patches.length, 1);
      assert.equal(await c.metric('weft_controller_cidr_allocations_total', { result: 'conflict' }), 0);
      fake.remove('old');
      await waitFor(
        'gauge back to 0',
        async () =>
          (await c.metric('weft_controller_nodes_missing_podcidr_family', { family: 'ipv6' })) === 0,
      );
    } finally {
      await c.stop();
    }
  });
});
