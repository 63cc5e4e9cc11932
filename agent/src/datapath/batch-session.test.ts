import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { BatchSession } from './batch-session.js';

// Read-only lines against the test process's own namespace: nothing is changed.
const OK = 'link show dev lo';
const MISSING = 'link show dev wfmissing0';

describe('BatchSession', () => {
  const ip = new BatchSession('ip', { args: [] });
  const bridge = new BatchSession('bridge', { args: [] });
  after(() => {
    ip.close();
    bridge.close();
  });

  it('maps failures to the lines of each batch, over many batches of one process', async () => {
    assert.deepEqual(await ip.run([OK, OK]), []);
    const failures = await ip.run([OK, MISSING, OK, MISSING]);
    assert.deepEqual(
      failures.map((f) => [f.index, f.line, f.error.code]),
      [
        [1, MISSING, 'ENODEV'],
        [3, MISSING, 'ENODEV'],
      ],
    );
    assert.deepEqual(
      (await ip.run([MISSING])).map((f) => f.index),
      [0],
    );
  });

  it('runs concurrent batches one after another, each with its own failures', async () => {
    const [a, b] = await Promise.all([ip.run([MISSING, OK]), ip.run([OK, OK, MISSING])]);
    assert.deepEqual(
      a.map((f) => f.index),
      [0],
    );
    assert.deepEqual(
      b.map((f) => f.index),
      [2],
    );
  });

  it('fails the unconfirmed lines when the tool exits mid-batch, then starts a new one', async () => {
    // A syntax error makes ip exit even with -force.
    const failures = await ip.run([MISSING, 'route add not-a-prefix', OK]);
    assert.deepEqual(
      failures.map((f) => f.index),
      [0, 1, 2],
    );
    assert.equal(failures[0]?.error.code, 'ENODEV');
    assert.match(failures[1]?.error.message ?? '', /not-a-prefix/);
    assert.deepEqual(await ip.run([OK]), []);
  });

  it('works for bridge -batch', async () => {
    const failures = await bridge.run(['fdb show dev lo', 'fdb show dev wfmissing0']);
    assert.deepEqual(
      failures.map((f) => [f.index, f.error.code]),
      [[1, 'ENODEV']],
    );
  });

  it('reports every line failed when the tool cannot enter its namespace', async () => {
    const gone = new BatchSession('ip', { args: ['-n', 'wtdp-no-such-ns'], netns: 'wtdp-no-such-ns' });
    try {
      const failures = await gone.run([OK, OK]);
      assert.deepEqual(
        failures.map((f) => f.index),
        [0, 1],
      );
    } finally {
      gone.close();
    }
  });

  it('ends its process soon after its namespace is deleted, so the namespace can go', async () => {
    const ns = `wtdpbs-${process.pid}`;
    execFileSync('ip', ['netns', 'add', ns]);
    const session = new BatchSession('ip', { args: ['-n', ns], netns: ns });
    try {
      assert.deepEqual(await session.run(['link set dev lo up']), []);
      const pid = session.pid as number;
      assert.ok(pid > 0);
      execFileSync('ip', ['netns', 'del', ns]);
      for (let i = 0; i < 40 && session.pid !== undefined; i++) await delay(50);
      assert.equal(session.pid, undefined);
      const alive = () => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      for (let i = 0; i < 40 && alive(); i++) await delay(50);
      assert.equal(alive(), false, 'the ip process has ended');
    } finally {
      session.close();
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  });
});
