import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../../../common/log.js';
import type { PolicyContent } from '../datapath/state.js';
import { PodGateError } from '../pod-gate.js';
import { PolicyEngine } from './engine.js';
import { EnginePodGate } from './gate.js';
import { PolicyMetrics } from './metrics.js';
import { computeOverlaidPods } from './overlay.js';
import { parseNetworkPolicy } from './parse.js';
import { PolicyStore } from './store.js';
import type { PolicyPod } from './types.js';

const pod = (name: string, ips: string[], node = 'n1'): PolicyPod => ({
  namespace: 'd',
  name,
  labels: { app: name },
  ips,
  node,
  ports: [],
  hostNetwork: false,
});

describe('computeOverlaidPods', () => {
  const web = pod('web', []);
  it('gives the Pod the overlay addresses and this node', () => {
    const [p] = computeOverlaidPods(
      [pod('web', [], '')],
      [{ namespace: 'd', name: 'web', ips: ['10.0.0.5'] }],
      'n1',
    );
    assert.deepEqual(p, { ...web, ips: ['10.0.0.5'], node: 'n1' });
  });
  it('is redundant once the watch reports the same addresses (same objects, same order)', () => {
    const reported = pod('web', ['10.0.0.5', '10.0.0.6']);
    const overlay = [{ namespace: 'd', name: 'web', ips: ['10.0.0.6', '10.0.0.5'] }];
    assert.deepEqual(computeOverlaidPods([reported], overlay, 'n1'), [reported]);
  });
  it('takes a claimed address from the pod the watch still shows it on; drops stale ones of the pod', () => {
    const old = pod('old', ['10.0.0.5']);
    const out = computeOverlaidPods(
      [old, pod('web', ['10.0.0.9'])],
      [{ namespace: 'd', name: 'web', ips: ['10.0.0.5'] }],
      'n1',
    );
    assert.deepEqual(
      out.map((p) => [p.name, p.ips]),
      [
        ['old', []],
        ['web', ['10.0.0.5']],
      ],
    );
  });
  it('unions the attachments of one pod; ignores an overlay whose Pod is unknown', () => {
    const out = computeOverlaidPods(
      [web],
      [
        { namespace: 'd', name: 'web', ips: ['10.0.0.5'] },
        { namespace: 'd', name: 'web', ips: ['10.0.0.7'] },
        { namespace: 'd', name: 'ghost', ips: ['10.0.0.8'] },
      ],
      'n1',
    );
    assert.deepEqual(
      out.map((p) => [p.name, p.ips]),
      [['web', ['10.0.0.5', '10.0.0.7']]],
    );
  });
});

/** A reconcile loop by hand: `start()` begins a pass (it reads the content), `finish(n)` reports it synced. */
function fakeLoop() {
  let passes = 0;
  const listeners = new Set<(r: unknown, v: unknown, pass: number) => void>();
  return {
    loop: {
      trigger: () => undefined,
      onSynced: (l: (r: unknown, v: unknown, pass: number) => void) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
      get passesStarted() {
        return passes;
      },
    },
    start: () => ++passes,
    finish: (pass: number) => {
      for (const l of [...listeners]) l(undefined, undefined, pass);
    },
  };
}

const tick = () => new Promise((r) => setTimeout(r, 5));
const until = async (what: string, ok: () => boolean) => {
  for (let i = 0; i < 200 && !ok(); i++) await tick();
  assert.ok(ok(), what);
};

function setup(o: { listed?: boolean; podWaitMs?: number; applyWaitMs?: number } = {}) {
  const store = new PolicyStore();
  const handed: PolicyContent[] = [];
  const fake = fakeLoop();
  const engine = new PolicyEngine({
    nodeName: 'n1',
    store,
    setPolicy: (c) => handed.push(c),
    loop: fake.loop,
    metrics: new PolicyMetrics(new Registry(), async () => new Map()),
    log: silentLogger(),
    sctp: false,
  });
  const ac = new AbortController();
  const running = engine.run(ac.signal);
  const gate = new EnginePodGate({ engine, store, signal: ac.signal, ...o });
  if (o.listed !== false) {
    const deny = parseNetworkPolicy({
      metadata: { namespace: 'd', name: 'deny' },
      spec: { podSelector: {} },
    });
    store.replaceAll('namespaces', new Map([['d', { name: 'd', labels: {} }]]));
    store.replaceAll('networkpolicies', new Map([['d/deny', deny]]));
    store.replaceAll('pods', new Map([['d/web', pod('web', [])]]));
  }
  const stop = async () => {
    ac.abort();
    await running;
  };
  return { store, handed, fake, engine, gate, stop };
}

const web = { attachment: 'c1/eth0', namespace: 'd', name: 'web', ips: ['10.244.1.5'] };
const rejection = (p: Promise<unknown>) =>
  p.then(
    () => assert.fail('admitted'),
    (e: unknown) => {
      assert.ok(e instanceof PodGateError, String(e));
      return e;
    },
  );

describe('EnginePodGate on the policy engine', () => {
  it('admits only after a pass that started after the hand-over with the pod has synced', async () => {
    const { store, handed, fake, gate, stop } = setup();
    try {
      await until('first hand-over', () => handed.length === 1);
      assert.deepEqual(handed[0]?.ingress, [], 'the watch has no address yet');
      const inFlight = fake.start();
      let admitted = false;
      const admit = gate.admit(web).then(() => {
        admitted = true;
      });
      await until('hand-over with the overlay', () => (handed.at(-1)?.ingress.length ?? 0) === 1);
      assert.match(handed.at(-1)?.ingress[0] ?? '', /^10\.244\.1\.5 : jump in_/);
      fake.finish(inFlight);
      await tick();
      assert.equal(admitted, false, 'the pass in flight read the older content');
      fake.finish(fake.start());
      await admit;
      const withOverlay = handed.at(-1);
      store.upsert('pods', 'd/web', pod('web', ['10.244.1.5']));
      await until('the watch reports the address', () => handed.length > 2);
      assert.deepEqual(handed.at(-1), withOverlay, 'the overlay is redundant now');
    } finally {
      await stop();
    }
  });

  it('forget drops the overlay: the address is no longer isolated when the watch never had it', async () => {
    const { handed, fake, gate, stop } = setup();
    try {
      await until('first hand-over', () => handed.length === 1);
      const admit = gate.admit(web);
      await until('overlay compiled', () => (handed.at(-1)?.ingress.length ?? 0) === 1);
      fake.finish(fake.start());
      await admit;
      gate.forget(web.attachment);
      await until('overlay dropped', () => handed.at(-1)?.ingress.length === 0);
    } finally {
      await stop();
    }
  });

  it('refuses: not synced, Pod unknown within the wait, no pass within the wait', async () => {
    const unsynced = setup({ listed: false });
    try {
      const e = await rejection(unsynced.gate.admit(web));
      assert.equal(e.code, 'EPOLICYNOTSYNCED');
    } finally {
      await unsynced.stop();
    }
    const { store, handed, gate, fake, stop } = setup({ podWaitMs: 50, applyWaitMs: 50 });
    try {
      await until('first hand-over', () => handed.length === 1);
      const ghost = await rejection(gate.admit({ ...web, name: 'ghost' }));
      assert.equal(ghost.code, 'EPODUNKNOWN');
      assert.match(ghost.details, /d\/ghost/);
      const late = gate.admit({ ...web, attachment: 'c2/eth0', name: 'late' });
      store.upsert('pods', 'd/late', pod('late', []));
      const e = await rejection(late);
      assert.equal(e.code, 'EPOLICYNOTAPPLIED', 'the Pod came in time, but no pass ran');
      fake.finish(fake.start());
    } finally {
      await stop();
    }
  });
});
