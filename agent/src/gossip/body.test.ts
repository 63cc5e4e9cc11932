import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  computeNameIndex,
  encodeCompactDigest,
  encodeFullDigest,
  encodeRecordsBody,
  parseDigestBody,
  parseRecordsBody,
} from './body.js';
import { chunkDelta } from './chunk.js';
import { FrameRejected } from './frame.js';
import type { NodeRecord } from './record.js';
import { GossipState } from './state.js';
import { sampleRecord } from './test-fixtures.js';

const INC = '00lx00000-0000000a';
const state = new GossipState([
  sampleRecord({ name: 'b', incarnation: INC, version: 40, contentVersion: 2 }),
  sampleRecord({ name: 'a', incarnation: INC, version: 7, contentVersion: 7 }),
]);

describe('digest bodies', () => {
  it('compact digest round-trips between equal memberships', () => {
    const index = computeNameIndex(state.members());
    const body = encodeCompactDigest((n) => state.get(n)?.version ?? 0, index);
    assert.deepEqual(body, { h: index.hash, e: '7,14' });
    assert.deepEqual(parseDigestBody(JSON.parse(JSON.stringify(body)), index), state.digest());
  });

  it('compact digest reports a mismatch when names or incarnations differ', () => {
    const index = computeNameIndex(state.members());
    const body = encodeCompactDigest((n) => state.get(n)?.version ?? 0, index) as Record<string, unknown>;
    const other = computeNameIndex(new Map([...state.members(), ['c', INC]]));
    assert.equal(parseDigestBody(body, other), 'mismatch');
    const restarted = computeNameIndex(
      new Map([
        ['a', INC],
        ['b', '00lx00009-0000000a'],
      ]),
    );
    assert.equal(parseDigestBody(body, restarted), 'mismatch');
  });

  it('full digest round-trips; malformed digests are rejected', () => {
    const index = computeNameIndex(new Map());
    const full = JSON.parse(JSON.stringify(encodeFullDigest(state.digest())));
    assert.deepEqual(parseDigestBody(full, index), state.digest());
    const own = computeNameIndex(state.members());
    for (const bad of [
      { f: 'x' },
      { f: [['a', 'zz', 1]] },
      { f: [['a', '', -1]] },
      { h: own.hash, e: '1,?' },
      {},
    ]) {
      assert.throws(() => parseDigestBody(bad, own), FrameRejected, JSON.stringify(bad));
    }
  });
});

describe('records bodies', () => {
  it('round-trip records, bumps, want and re', () => {
    const delta = {
      records: [state.get('a') as NodeRecord],
      bumps: [{ name: 'b', tag: '00000a', version: 41, contentVersion: 2 }],
    };
    const want = new Map([['c', { tag: '', version: 0 }]]);
    const parsed = parseRecordsBody(JSON.parse(JSON.stringify(encodeRecordsBody(delta, want, 'nonce'))));
    assert.deepEqual(parsed, { ...delta, want, re: 'nonce', news: false });
    assert.equal(
      parseRecordsBody(JSON.parse(JSON.stringify(encodeRecordsBody(delta, undefined, undefined, true)))).news,
      true,
    );
  });

  it('rejects a body carrying an invalid record, naming the field', () => {
    const body = { r: [{ ...sampleRecord(), mtu: 'big' }], b: [] };
    assert.throws(() => parseRecordsBody(body), /mtu/);
    assert.throws(() => parseRecordsBody({ r: [], b: [['a', '00000a', 1, 2]] }), FrameRejected);
    assert.throws(() => parseRecordsBody({ r: {}, b: [] }), FrameRejected);
  });

  it('splits a large delta into frames under the budget', () => {
    const records = Array.from({ length: 50 }, (_, i) => sampleRecord({ name: `n${i}` }));
    const pieces = chunkDelta({ records, bumps: [] }, 2000);
    assert.ok(pieces.length > 1);
    assert.equal(pieces.flatMap((p) => p.records).length, 50);
    for (const p of pieces) assert.ok(JSON.stringify(encodeRecordsBody(p)).length < 2500);
    assert.deepEqual(chunkDelta({ records: [], bumps: [] }, 2000), [{ records: [], bumps: [] }]);
  });
});
