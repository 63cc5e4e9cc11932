import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../agent/src/config/config-error.js';
import { loadControllerKubeConfig } from './kube-apis.js';

describe('loadControllerKubeConfig', () => {
  it('names KUBECONFIG when neither a kubeconfig nor a pod environment is there', () => {
    assert.throws(
      () => loadControllerKubeConfig(undefined, {}),
      (err: unknown) => err instanceof ConfigError && /KUBECONFIG/.test(err.message),
    );
  });
});
