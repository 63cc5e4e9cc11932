import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type LeaseView, observeLease, planLeaseStep, renewDeadlinePassed } from './lease-plan.js';

const lease = (holder: string, resourceVersion = '10', durationSeconds = 15): LeaseView => ({
  holder,
  resourceVersion,
  durationSeconds,
});

describe('planLeaseStep', () => {
  it('decides from holder and how long the Lease has been unchanged', () => {
    const table: Array<{
      name: string;
      lease: LeaseView | undefined;
      observed: { resourceVersion: string; atMs: number } | undefined;
      now: number;
      action: string;
    }> = [
      { name: 'no lease', lease: undefined, observed: undefined, now: 0, action: 'create' },
      { name: 'ours', lease: lease('me'), observed: undefined, now: 0, action: 'renew' },
      { name: 'released', lease: lease(''), observed: undefined, now: 0, action: 'acquire' },
      {
        name: 'first sight of a live lease',
        lease: lease('other'),
        observed: undefined,
        now: 1e9,
        action: 'follow',
      },
      {
        name: 'unchanged for less than its duration',
        lease: lease('other'),
        observed: { resourceVersion: '10', atMs: 1000 },
        now: 15_999,
        action: 'follow',
      },
      {
        name: 'unchanged for its duration',
        lease: lease('other'),
        observed: { resourceVersion: '10', atMs: 1000 },
        now: 16_000,
        action: 'acquire',
      },
      {
        name: 'renewed since we looked',
        lease: lease('other', '11'),
        observed: { resourceVersion: '10', atMs: 1000 },
        now: 60_000,
        action: 'follow',
      },
      {
        name: 'short lease',
        lease: lease('other', '10', 2),
        observed: { resourceVersion: '10', atMs: 0 },
        now: 2000,
        action: 'acquire',
      },
    ];
    for (const row of table) {
      assert.equal(planLeaseStep('me', row.lease, row.observed, row.now).action, row.action, row.name);
    }
  });

  it('reports the previous holder on takeover and the time left while following', () => {
    assert.deepEqual(planLeaseStep('me', lease('old'), { resourceVersion: '10', atMs: 0 }, 20_000), {
      action: 'acquire',
      previousHolder: 'old',
    });
    assert.deepEqual(planLeaseStep('me', lease('old'), { resourceVersion: '10', atMs: 0 }, 5000), {
      action: 'follow',
      holder: 'old',
      expiresInMs: 10_000,
    });
  });
});

describe('observeLease', () => {
  it('keeps the first sighting of a resourceVersion and restarts on change', () => {
    const first = observeLease(undefined, lease('a', '1'), 100);
    assert.deepEqual(first, { resourceVersion: '1', atMs: 100 });
    assert.equal(observeLease(first, lease('a', '1'), 900), first);
    assert.deepEqual(observeLease(first, lease('a', '2'), 900), { resourceVersion: '2', atMs: 900 });
  });
});

describe('renewDeadlinePassed', () => {
  it('is strict', () => {
    assert.equal(renewDeadlinePassed(0, 10_000, 10_000), false);
    assert.equal(renewDeadlinePassed(0, 10_000, 10_001), true);
  });
});
