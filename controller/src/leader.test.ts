import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Lease } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { silentLogger } from '../../common/log.js';
import { DEFAULT_LEASE_TIMING, type LeaseApi, LeaseElector } from './leader.js';
import { createControllerMetrics } from './metrics.js';

class ApiError extends Error {
  constructor(readonly code: number) {
    super(`HTTP ${code}`);
  }
}

/** An in-memory Lease with the API server's resourceVersion checks. */
class FakeLeaseStore {
  lease: V1Lease | undefined;
  version = 0;
  down = false;
  writes = 0;
  api(): LeaseApi {
    return {
      read: async () => {
        if (this.down) throw new ApiError(503);
        return this.lease === undefined ? undefined : wire(this.lease);
      },
      create: async (lease) => {
        if (this.down) throw new ApiError(503);
        if (this.lease !== undefined) throw new ApiError(409);
        return this.#store(lease);
      },
      replace: async (lease) => {
        if (this.down) throw new ApiError(503);
        if (lease.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion)
          throw new ApiError(409);
        return this.#store(lease);
      },
    };
  }
  get holder(): string | undefined {
    return this.lease?.spec?.holderIdentity;
  }
  #store(lease: V1Lease): V1Lease {
    this.writes++;
    this.version++;
    this.lease = wire({ ...lease, metadata: { ...lease.metadata, resourceVersion: String(this.version) } });
    return wire(this.lease);
  }
}

/** What goes over the wire: JSON (times become strings). */
function wire(lease: V1Lease): V1Lease {
  return JSON.parse(JSON.stringify(lease)) as V1Lease;
}

function replica(store: FakeLeaseStore, identity: string, clock: { now: number }) {
  const events: string[] = [];
  let choresSignal: AbortSignal | undefined;
  const elector = new LeaseElector({
    api: store.api(),
    name: 'weft-controller',
    namespace: 'weft-system',
    identity,
    timing: DEFAULT_LEASE_TIMING,
    metrics: createControllerMetrics(new Registry(), { version: 'test' }),
    log: silentLogger(),
    now: () => clock.now,
    onStartedLeading: (signal) => {
      choresSignal = signal;
      events.push('started');
    },
    onStoppedLeading: (reason) => events.push(`stopped: ${reason}`),
  });
  return { elector, events, choresAborted: () => choresSignal?.aborted === true };
}

describe('LeaseElector', () => {
  it('elects one leader, keeps it while it renews, fails over after the lease duration', async () => {
    const store = new FakeLeaseStore();
    const clock = { now: 1_000_000 };
    const a = replica(store, 'a', clock);
    const b = replica(store, 'b', clock);
    await a.elector.runRound();
    await b.elector.runRound();
    assert.equal(store.holder, 'a');
    assert.deepEqual([a.elector.isLeader, b.elector.isLeader], [true, false]);
    assert.equal(store.lease?.spec?.leaseDurationSeconds, 15);
    assert.match(String(store.lease?.spec?.renewTime), /\.\d{6}Z$/);

    for (let i = 0; i < 10; i++) {
      clock.now += 5000;
      await a.elector.runRound();
      await b.elector.runRound();
    }
    assert.equal(store.holder, 'a', 'a renewing leader keeps the lease');

    // a stops renewing (killed): b takes over once the lease has been unchanged for 15 s
    clock.now += 14_000;
    await b.elector.runRound();
    assert.equal(b.elector.isLeader, false);
    clock.now += 1000;
    await b.elector.runRound();
    assert.equal(b.elector.isLeader, true);
    assert.equal(store.holder, 'b');
    assert.equal(store.lease?.spec?.leaseTransitions, 1);
    assert.deepEqual(b.events, ['started']);

    // a comes back from a pause: it sees b's lease and stops its chores
    await a.elector.runRound();
    assert.equal(a.elector.isLeader, false);
    assert.ok(a.choresAborted());
    assert.deepEqual(a.events, ['started', 'stopped: lease is held by b']);
  });

  it('stops leading when it cannot renew within the renew deadline', async () => {
    const store = new FakeLeaseStore();
    const clock = { now: 0 };
    const a = replica(store, 'a', clock);
    await a.elector.runRound();
    store.down = true;
    clock.now += 10_000;
    await a.elector.runRound();
    assert.equal(a.elector.isLeader, true);
    clock.now += 1;
    await a.elector.runRound();
    assert.equal(a.elector.isLeader, false);
    assert.match(a.events.at(-1) ?? '', /renew deadline/);
  });

  it('releases on shutdown so that a follower takes over at once', async () => {
    const store = new FakeLeaseStore();
    const clock = { now: 0 };
    const a = replica(store, 'a', clock);
    const b = replica(store, 'b', clock);
    await a.elector.runRound();
    await b.elector.runRound();
    await a.elector.release();
    assert.equal(store.holder, '');
    assert.ok(a.choresAborted());
    assert.deepEqual(a.events, ['started'], 'a release is not a loss');
    clock.now += 1;
    await b.elector.runRound();
    assert.equal(store.holder, 'b');
  });

  it('loses a simultaneous takeover race without harm', async () => {
    const store = new FakeLeaseStore();
    const clock = { now: 0 };
    const a = replica(store, 'a', clock);
    const b = replica(store, 'b', clock);
    await Promise.all([a.elector.runRound(), b.elector.runRound()]);
    assert.equal([a, b].filter((r) => r.elector.isLeader).length, 1);
    assert.equal(store.writes, 1);
  });
});
