import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeReadiness } from './probes.js';

describe('computeReadiness', () => {
  it('needs recent API contact, and a synced Node cache on the leader', () => {
    const base = { nowMs: 100_000, leaseDurationMs: 15_000, isLeader: false, nodesSynced: false };
    const table: Array<{ input: Parameters<typeof computeReadiness>[0]; ok: boolean; detail: RegExp }> = [
      { input: { ...base, lastLeaseContactMs: undefined }, ok: false, detail: /yet/ },
      { input: { ...base, lastLeaseContactMs: 84_000 }, ok: false, detail: /unreachable for 16 s/ },
      { input: { ...base, lastLeaseContactMs: 90_000 }, ok: true, detail: /standby/ },
      { input: { ...base, lastLeaseContactMs: 90_000, isLeader: true }, ok: false, detail: /not synced/ },
      {
        input: { ...base, lastLeaseContactMs: 90_000, isLeader: true, nodesSynced: true },
        ok: true,
        detail: /leader/,
      },
    ];
    for (const row of table) {
      const got = computeReadiness(row.input);
      assert.equal(got.ok, row.ok, JSON.stringify(row.input));
      assert.match(got.detail, row.detail);
    }
  });
});
