import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Secret } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { silentLogger } from '../../common/log.js';
import {
  describeKeyProblem,
  ensureGossipKey,
  ensureGossipKeyUntilDone,
  type SecretApi,
} from './gossip-key.js';
import { createControllerMetrics } from './metrics.js';

class ApiError extends Error {
  constructor(readonly code: number) {
    super(`HTTP ${code}`);
  }
}

function fakeSecrets(initial?: V1Secret, opts: { raceOnCreate?: boolean; failures?: number } = {}) {
  const state = { secret: initial, creates: 0, failures: opts.failures ?? 0 };
  const api: SecretApi = {
    read: async () => {
      if (state.failures > 0) {
        state.failures--;
        throw new ApiError(503);
      }
      return opts.raceOnCreate ? undefined : state.secret;
    },
    create: async (secret) => {
      state.creates++;
      if (state.secret !== undefined) throw new ApiError(409);
      state.secret = secret;
      return secret;
    },
  };
  return { api, state };
}

const key = (n: number): V1Secret => ({ data: { key: Buffer.alloc(n, 7).toString('base64') } });

describe('ensureGossipKey', () => {
  it('creates a 32-byte key when absent, in the given namespace', async () => {
    const { api, state } = fakeSecrets();
    assert.equal(await ensureGossipKey(api, 'weft-system', silentLogger()), 'created');
    assert.equal(state.secret?.metadata?.name, 'weft-gossip-key');
    assert.equal(state.secret?.metadata?.namespace, 'weft-system');
    assert.equal(Buffer.from(state.secret?.data?.key ?? '', 'base64').length, 32);
  });

  it('never overwrites an existing key, even a malformed one', async () => {
    for (const existing of [key(32), key(16), {} as V1Secret]) {
      const { api, state } = fakeSecrets(existing);
      assert.equal(await ensureGossipKey(api, 'weft-system', silentLogger()), 'exists');
      assert.equal(state.creates, 0);
      assert.equal(state.secret, existing);
    }
  });

  it('treats AlreadyExists on create as another replica having won', async () => {
    const { api, state } = fakeSecrets(key(32), { raceOnCreate: true });
    const before = state.secret;
    assert.equal(await ensureGossipKey(api, 'weft-system', silentLogger()), 'lost-race');
    assert.equal(state.secret, before);
  });

  it('uses fresh random bytes', async () => {
    const a = fakeSecrets();
    const b = fakeSecrets();
    await ensureGossipKey(a.api, 'ns', silentLogger());
    await ensureGossipKey(b.api, 'ns', silentLogger());
    assert.notEqual(a.state.secret?.data?.key, b.state.secret?.data?.key);
  });

  it('retries API errors until it succeeds', async () => {
    const { api, state } = fakeSecrets(undefined, { failures: 2 });
    const metrics = createControllerMetrics(new Registry(), { version: 'test' });
    const outcome = await ensureGossipKeyUntilDone(
      api,
      'ns',
      { log: silentLogger(), metrics, baseMs: 1, capMs: 2 },
      new AbortController().signal,
    );
    assert.equal(outcome, 'created');
    assert.equal(state.creates, 1);
    assert.equal((await metrics.errors.get()).values[0]?.value, 2);
  });
});

describe('describeKeyProblem', () => {
  it('names what is wrong', () => {
    assert.equal(describeKeyProblem(key(32)), undefined);
    assert.match(describeKeyProblem(key(31)) ?? '', /31 bytes/);
    assert.match(describeKeyProblem({}) ?? '', /missing/);
  });
});
