import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { FrameCodec, FrameRejected, type RejectReason } from './frame.js';
import { ReplayCache } from './replay-cache.js';

const KEY = Buffer.alloc(32, 3);

function rejection(fn: () => unknown): RejectReason | 'accepted' {
  try {
    fn();
    return 'accepted';
  } catch (err: unknown) {
    if (err instanceof FrameRejected) return err.reason;
    throw err;
  }
}

describe('FrameCodec', () => {
  let clock = 1_700_000_000_000;
  const now = () => clock;

  it('round-trips a frame', () => {
    const codec = new FrameCodec({ key: KEY, now });
    const f = codec.decode(codec.encode('digest', 'node-a', { h: 'x', e: '1' }));
    assert.deepEqual(
      { type: f.type, sender: f.sender, ts: f.ts, body: f.body },
      { type: 'digest', sender: 'node-a', ts: clock, body: { h: 'x', e: '1' } },
    );
    assert.match(f.nonce, /^[A-Za-z0-9_-]{16}$/);
  });

  it('rejects each kind of bad input with its reason', () => {
    const codec = new FrameCodec({ key: KEY, now, maxFrameBytes: 2048, windowMs: 30_000 });
    const sender = new FrameCodec({ key: KEY, now });
    const forger = new FrameCodec({ key: Buffer.alloc(32, 4), now });
    const replayed = sender.encode('ping', 'node-b', {});
    codec.decode(replayed);
    const valid = sender.encode('ping', 'node-b', {});
    const tampered = valid.replace('"ping"', '"pong"');
    const signed = (payload: string) => {
      return createHmac('sha256', KEY).update(payload).digest('base64url') + payload;
    };
    const table: Array<[string, () => unknown, RejectReason]> = [
      ['wrong key', () => codec.decode(forger.encode('ping', 'node-b', {})), 'bad_mac'],
      ['tampered payload', () => codec.decode(tampered), 'bad_mac'],
      ['replayed frame', () => codec.decode(replayed), 'replay'],
      [
        'too old',
        () =>
          codec.decode(new FrameCodec({ key: KEY, now: () => clock - 31_000 }).encode('ping', 'node-b', {})),
        'stale',
      ],
      [
        'from the future',
        () =>
          codec.decode(new FrameCodec({ key: KEY, now: () => clock + 31_000 }).encode('ping', 'node-b', {})),
        'stale',
      ],
      ['oversized', () => codec.decode(Buffer.alloc(4096, 65)), 'oversized'],
      ['short garbage', () => codec.decode(Buffer.from([1, 2, 3])), 'malformed'],
      ['long garbage', () => codec.decode(Buffer.alloc(100, 0xfe)), 'bad_mac'],
      ['signed non-JSON', () => codec.decode(signed('{nope')), 'malformed'],
      ['signed array', () => codec.decode(signed('[1,2]')), 'malformed'],
      [
        'unknown type',
        () =>
          codec.decode(
            signed(
              JSON.stringify({ type: 'evil', sender: 'a', ts: clock, nonce: 'AAAAAAAAAAAAAAAA', body: {} }),
            ),
          ),
        'malformed',
      ],
      [
        'bad sender',
        () =>
          codec.decode(
            signed(
              JSON.stringify({
                type: 'ping',
                sender: 'Bad Name',
                ts: clock,
                nonce: 'AAAAAAAAAAAAAAAA',
                body: {},
              }),
            ),
          ),
        'malformed',
      ],
      [
        'bad nonce',
        () =>
          codec.decode(
            signed(JSON.stringify({ type: 'ping', sender: 'a', ts: clock, nonce: 'x', body: {} })),
          ),
        'malformed',
      ],
      [
        'body not an object',
        () =>
          codec.decode(
            signed(
              JSON.stringify({ type: 'ping', sender: 'a', ts: clock, nonce: 'AAAAAAAAAAAAAAAB', body: [] }),
            ),
          ),
        'malformed',
      ],
    ];
    for (const [what, fn, reason] of table) assert.equal(rejection(fn), reason, what);
    assert.equal(
      rejection(() => codec.decode(valid)),
      'accepted',
      'a fresh frame still passes',
    );
  });

  it('forgets nonces after twice the window, so memory stays bounded', () => {
    const codec = new FrameCodec({ key: KEY, now, windowMs: 1000 });
    const frame = codec.encode('ping', 'node-b', {});
    codec.decode(frame);
    clock += 2500;
    assert.equal(
      rejection(() => codec.decode(frame)),
      'stale',
      'an old replay is stale, not accepted',
    );
  });

  it('refuses a short key', () => {
    assert.throws(() => new FrameCodec({ key: Buffer.alloc(8) }), /shorter than 16/);
  });
});

describe('ReplayCache', () => {
  it('remembers within its TTL, forgets after, and evicts the oldest when full', () => {
    const c = new ReplayCache(2, 100);
    assert.equal(c.remember('x', 0), true);
    assert.equal(c.remember('x', 50), false);
    assert.equal(c.remember('x', 100), true, 'expired');
    c.remember('y', 101);
    c.remember('z', 102);
    assert.equal(c.size, 2);
    assert.equal(c.remember('z', 103), false);
  });
});
