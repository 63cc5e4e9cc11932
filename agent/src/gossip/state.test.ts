import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { incarnationTag, type NodeRecord } from './record.js';
import { bumpOf, compareRecordKeys, GossipState, supersedes } from './state.js';
import { sampleRecord } from './test-fixtures.js';

const INC1 = '00lx00000-0000000a';
const INC2 = '00lx00001-0000000b';

function rec(name: string, incarnation: string, version: number, over: Partial<NodeRecord> = {}): NodeRecord {
  return sampleRecord({ name, incarnation, version, contentVersion: version, ...over });
}

/** A small deterministic PRNG so that failures reproduce. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}

function snapshot(s: GossipState): string {
  return JSON.stringify(s.records().sort((a, b) => (a.name < b.name ? -1 : 1)));
}

describe('record ordering', () => {
  const table: Array<[string, NodeRecord, NodeRecord | undefined, boolean]> = [
    ['anything beats nothing', rec('a', INC1, 1), undefined, true],
    ['higher version wins', rec('a', INC1, 2), rec('a', INC1, 1), true],
    ['lower version loses', rec('a', INC1, 1), rec('a', INC1, 2), false],
    ['later boot wins even with a lower version', rec('a', INC2, 1), rec('a', INC1, 99), true],
    ['earlier boot loses', rec('a', INC1, 99), rec('a', INC2, 1), false],
    ['same key, same content: no change', rec('a', INC1, 3), rec('a', INC1, 3), false],
  ];
  for (const [what, incoming, current, want] of table) {
    it(what, () => assert.equal(supersedes(incoming, current), want));
  }
  it('breaks ties between conflicting equal keys the same way from both sides', () => {
    const x = rec('a', INC1, 3, { mtu: 1400 });
    const y = rec('a', INC1, 3, { mtu: 1500 });
    assert.equal(compareRecordKeys(x, y), 0);
    assert.notEqual(supersedes(x, y), supersedes(y, x));
  });
});

describe('GossipState.merge', () => {
  it('returns only what was new, and nothing the second time (idempotent)', () => {
    const s = new GossipState();
    const batch = { records: [rec('a', INC1, 2), rec('b', INC1, 1)], bumps: [] };
    assert.equal(s.merge(batch).records.length, 2);
    assert.deepEqual(s.merge(batch), { records: [], bumps: [] });
    assert.deepEqual(s.merge({ records: [rec('a', INC1, 1)], bumps: [] }).records, []);
  });

  it('is commutative: two states merged either way agree', () => {
    const a = new GossipState([rec('a', INC1, 5), rec('b', INC1, 1)]);
    const b = new GossipState([rec('a', INC2, 1), rec('b', INC1, 3), rec('c', INC1, 1)]);
    const ab = new GossipState(a.records());
    ab.merge({ records: b.records(), bumps: [] });
    const ba = new GossipState(b.records());
    ba.merge({ records: a.records(), bumps: [] });
    assert.equal(snapshot(ab), snapshot(ba));
    assert.equal(ab.get('a')?.incarnation, INC2);
    assert.equal(ab.get('b')?.version, 3);
  });

  it('converges to the same state for any interleaving of the same updates', () => {
    const updates: NodeRecord[] = [];
    for (const name of ['a', 'b', 'c', 'd']) {
      for (const inc of [INC1, INC2]) {
        for (let v = 1; v <= 4; v++) updates.push(rec(name, inc, v, { mtu: 1000 + v }));
      }
    }
    const random = prng(42);
    const expected = snapshot(new GossipState(updates));
    for (let trial = 0; trial < 50; trial++) {
      const s = new GossipState();
      // deliver in random batches, some twice
      const order = shuffled([...updates, ...updates.slice(0, 10)], random);
      while (order.length > 0) s.merge({ records: order.splice(0, 1 + Math.floor(random() * 4)), bumps: [] });
      assert.equal(snapshot(s), expected, `trial ${trial}`);
    }
    assert.ok(expected.includes(INC2));
  });

  it('applies a bump only on top of the same incarnation and content', () => {
    const s = new GossipState([rec('a', INC1, 4)]);
    const base = { name: 'a', tag: incarnationTag(INC1), contentVersion: 4 };
    assert.deepEqual(
      s.merge({ records: [], bumps: [{ ...base, tag: incarnationTag(INC2), version: 9 }] }).bumps,
      [],
    );
    assert.deepEqual(s.merge({ records: [], bumps: [{ ...base, contentVersion: 3, version: 9 }] }).bumps, []);
    assert.equal(s.merge({ records: [], bumps: [{ ...base, version: 9 }] }).bumps.length, 1);
    assert.equal(s.get('a')?.version, 9);
    assert.deepEqual(s.merge({ records: [], bumps: [{ ...base, version: 9 }] }).bumps, [], 'idempotent');
  });
});

describe('GossipState anti-entropy', () => {
  it('sends what the digest holder lacks: bump when it has the content, record otherwise', () => {
    const mine = new GossipState([
      rec('a', INC1, 7, { contentVersion: 3 }),
      rec('b', INC1, 7, { contentVersion: 6 }),
      rec('c', INC2, 2),
      rec('d', INC1, 1),
      rec('e', INC1, 1),
    ]);
    const theirs = new Map([
      ['a', { tag: incarnationTag(INC1), version: 4 }], // has content 3 → bump
      ['b', { tag: incarnationTag(INC1), version: 4 }], // lacks content 6 → record
      ['c', { tag: incarnationTag(INC1), version: 9 }], // other incarnation → record (and want)
      ['d', { tag: incarnationTag(INC1), version: 5 }], // newer than mine → want
      ['f', { tag: incarnationTag(INC1), version: 1 }], // unknown to me → want
    ]);
    const delta = mine.missingFor(theirs);
    assert.deepEqual(delta.bumps, [bumpOf(mine.get('a') as NodeRecord)]);
    assert.deepEqual(
      delta.records.map((r) => r.name),
      ['b', 'c', 'e'],
    );
    assert.deepEqual([...mine.wantedFrom(theirs).keys()], ['c', 'd', 'f']);
    assert.deepEqual(mine.wantedFrom(theirs).get('f'), { tag: '', version: 0 });
    assert.deepEqual(
      mine.missingFor(theirs, 'listed').records.map((r) => r.name),
      ['b', 'c'],
      'listed scope leaves out names absent from the digest',
    );
  });

  it('push-pull between two states leaves both equal', () => {
    const x = new GossipState([rec('a', INC1, 5), rec('b', INC1, 1, { mtu: 1300 })]);
    const y = new GossipState([rec('a', INC1, 2), rec('b', INC1, 3), rec('c', INC2, 1)]);
    const toX = y.missingFor(x.digest());
    const want = y.wantedFrom(x.digest());
    x.merge(toX);
    y.merge(x.missingFor(want, 'listed'));
    assert.equal(snapshot(x), snapshot(y));
    assert.deepEqual(x.missingFor(y.digest()), { records: [], bumps: [] });
  });

  it('expires tombstones at their time and not before', () => {
    const s = new GossipState([rec('a', INC1, 2, { leaving: { until: 1000 } }), rec('b', INC1, 1)]);
    assert.deepEqual(s.expireTombstones(999), []);
    assert.deepEqual(s.expireTombstones(1000), ['a']);
    assert.equal(s.get('a'), undefined);
    assert.equal(s.size, 1);
  });

  it('changes the membership version on a new name or incarnation only', () => {
    const s = new GossipState();
    const v0 = s.membershipVersion;
    s.merge({ records: [rec('a', INC1, 1)], bumps: [] });
    const v1 = s.membershipVersion;
    s.merge({ records: [rec('a', INC1, 2)], bumps: [] });
    assert.equal(s.membershipVersion, v1);
    s.merge({ records: [rec('a', INC2, 1)], bumps: [] });
    assert.ok(v1 > v0 && s.membershipVersion > v1);
  });
});
