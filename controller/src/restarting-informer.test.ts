import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { silentLogger } from '../../common/log.js';
import { type CachedInformer, runRestartingInformer } from './restarting-informer.js';

type Handler = (arg?: unknown) => void;

/** An informer whose start() either lists `items` or fails the way client-node does (error event, then resolve). */
function fakeInformer(plan: { failOnStart: boolean; items: KubernetesObject[] }, log: string[]) {
  const handlers = new Map<string, Handler[]>();
  const emit = (verb: string, arg?: unknown) => {
    for (const cb of handlers.get(verb) ?? []) cb(arg);
  };
  const informer = {
    on: (verb: string, cb: Handler) => handlers.set(verb, [...(handlers.get(verb) ?? []), cb]),
    off: () => undefined,
    start: async () => {
      log.push('start');
      if (plan.failOnStart)
        emit('error', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
      else for (const item of plan.items) emit('add', item);
    },
    stop: async () => {
      log.push('stop');
    },
    get: () => undefined,
    list: () => plan.items,
  };
  return { informer: informer as unknown as CachedInformer<KubernetesObject>, emit };
}

describe('runRestartingInformer', () => {
  it('restarts after a failed list and after a watch error, syncing each time it lists', async () => {
    const calls: string[] = [];
    const items = [{ metadata: { name: 'n1' } }];
    const plans = [
      { failOnStart: true, items: [] },
      { failOnStart: false, items },
      { failOnStart: false, items },
    ];
    const made: Array<ReturnType<typeof fakeInformer>> = [];
    const abort = new AbortController();
    const done = runRestartingInformer(
      () => {
        const f = fakeInformer(plans[made.length] ?? { failOnStart: false, items }, calls);
        made.push(f);
        return f.informer;
      },
      {
        onEvent: (kind, obj) => calls.push(`${kind} ${obj.metadata?.name}`),
        onSynced: (cache) => calls.push(`synced ${cache.list().length}`),
        onStopped: () => calls.push('stopped'),
      },
      abort.signal,
      { log: silentLogger(), baseMs: 2, capMs: 4 },
    );
    const waitFor = async (cond: () => boolean) => {
      while (!cond()) await new Promise((r) => setTimeout(r, 2));
    };
    await waitFor(() => calls.includes('synced 1'));
    made[1]?.emit('error', new Error('watch broke'));
    await waitFor(() => made.length === 3 && calls.filter((c) => c === 'synced 1').length === 2);
    abort.abort();
    await done;
    assert.deepEqual(calls, [
      'start',
      'stop',
      'stopped',
      'start',
      'add n1',
      'synced 1',
      'stop',
      'stopped',
      'start',
      'add n1',
      'synced 1',
      'stop',
    ]);
  });
});
