import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../../../common/log.js';
import type { PolicyContent } from '../datapath/state.js';
import type { ListWatchApi } from '../kube/list-watch.js';
import type { WatchEvent } from '../kube/watch-stream.js';
import { PolicyEngine } from './engine.js';
import { PolicyMetrics } from './metrics.js';
import { type PolicyKind, PolicyStore } from './store.js';
import { runPolicyWatchers } from './watcher.js';

type Raw = { metadata?: { resourceVersion?: string; [k: string]: unknown }; [k: string]: unknown };

/** One kind's API: a list page, then the events pushed into the open watch. */
function fakeApi(items: object[]) {
  const queue: WatchEvent<Raw>[] = [];
  let wake: (() => void) | undefined;
  const api: ListWatchApi<Raw> = {
    list: async () => ({ items: items as Raw[], resourceVersion: '1', continueToken: undefined }),
    async *watch({ signal }) {
      while (!signal.aborted) {
        const ev = queue.shift();
        if (ev) yield ev;
        else await new Promise<void>((r) => (wake = r));
      }
    },
  };
  const push = (ev: WatchEvent<Raw>) => {
    queue.push(ev);
    wake?.();
  };
  return { api, push };
}

const until = async (what: string, ok: () => boolean) => {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(ok(), what);
};

describe('policy watchers and engine', () => {
  it('compile only once every kind is listed, follow events, report a bad field once and go on', async () => {
    const pods = fakeApi([
      {
        metadata: { namespace: 'd', name: 'web', labels: { app: 'web' } },
        spec: { nodeName: 'n1' },
        status: { podIPs: [{ ip: '10.244.1.5' }] },
      },
    ]);
    const namespaces = fakeApi([{ metadata: { name: 'd' } }]);
    const policies = fakeApi([]);
    const store = new PolicyStore();
    const handed: PolicyContent[] = [];
    let triggers = 0;
    const registry = new Registry();
    const engine = new PolicyEngine({
      nodeName: 'n1',
      store,
      setPolicy: (c) => handed.push(c),
      loop: { trigger: () => triggers++, onSynced: () => () => undefined, passesStarted: 0 },
      metrics: new PolicyMetrics(registry, async () => new Map()),
      log: silentLogger(),
      sctp: false,
    });
    const ac = new AbortController();
    const apis = { pods: pods.api, namespaces: namespaces.api, networkpolicies: policies.api } as Record<
      PolicyKind,
      ListWatchApi<Raw>
    >;
    engine.compileNow();
    assert.equal(handed.length, 0, 'nothing before the lists');
    const running = Promise.all([
      engine.run(ac.signal),
      runPolicyWatchers({ store, log: silentLogger(), apis }, ac.signal),
    ]);
    try {
      await until('first hand-over', () => handed.length === 1);
      assert.deepEqual(handed[0]?.ingress, [], 'no policy yet: nothing isolated');
      const sctp = {
        metadata: { namespace: 'd', name: 'deny', resourceVersion: '2' },
        spec: { podSelector: {}, ingress: [{ ports: [{ protocol: 'SCTP', port: 9 }] }] },
      };
      policies.push({ type: 'ADDED', object: sctp });
      await until('policy enforced', () => (handed.at(-1)?.ingress.length ?? 0) === 1);
      policies.push({
        type: 'MODIFIED',
        object: { ...sctp, metadata: { ...sctp.metadata, labels: { x: 'y' } } },
      });
      policies.push({
        type: 'ADDED',
        object: { metadata: { namespace: 'd', name: 'bad' }, spec: { policyTypes: ['Nope'] } },
      });
      policies.push({ type: 'DELETED', object: sctp });
      await until('policy removed', () => handed.at(-1)?.ingress.length === 0);
      const metrics = await registry.metrics();
      assert.match(metrics, /weft_networkpolicy_unenforceable_total 1\b/, 'the SCTP field counted once');
      assert.ok(triggers >= 2);
      assert.equal(store.policies.has('d/bad'), false, 'the invalid policy is left out');
    } finally {
      ac.abort();
      pods.push({ type: 'BOOKMARK', resourceVersion: '9' });
      namespaces.push({ type: 'BOOKMARK', resourceVersion: '9' });
      policies.push({ type: 'BOOKMARK', resourceVersion: '9' });
      await running;
    }
  });
});
