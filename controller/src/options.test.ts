import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../agent/src/config/config-error.js';
import { parseControllerEnv, parseHttpAddress } from './options.js';

describe('parseControllerEnv', () => {
  it('reads the Deployment env with defaults', () => {
    const opts = parseControllerEnv({
      POD_NAME: 'weft-controller-abc',
      POD_NAMESPACE: 'weft-system',
      WEFT_NET_CONF: '/etc/weft/net-conf.json',
      WEFT_HTTP_ADDR: '0.0.0.0:9744',
    });
    assert.deepEqual(opts, {
      identity: 'weft-controller-abc',
      namespace: 'weft-system',
      netConfPath: '/etc/weft/net-conf.json',
      httpAddress: { host: '0.0.0.0', port: 9744 },
      kubeconfigPath: undefined,
    });
    const bare = parseControllerEnv({ KUBECONFIG: '/tmp/kc' });
    assert.equal(bare.namespace, 'weft-system');
    assert.equal(bare.netConfPath, undefined);
    assert.equal(bare.kubeconfigPath, '/tmp/kc');
    assert.deepEqual(bare.httpAddress, { host: '0.0.0.0', port: 9744 });
    assert.match(bare.identity, /-\d+$/);
  });

  it('parses listen addresses and names the variable on error', () => {
    assert.deepEqual(parseHttpAddress('X', '127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
    assert.deepEqual(parseHttpAddress('X', '[::1]:9744'), { host: '::1', port: 9744 });
    for (const bad of ['9744', '127.0.0.1', '127.0.0.1:99999', ':80', 'a:b']) {
      assert.throws(
        () => parseControllerEnv({ WEFT_HTTP_ADDR: bad }),
        (err: unknown) => err instanceof ConfigError && err.field === 'WEFT_HTTP_ADDR',
        bad,
      );
    }
    assert.throws(() => parseControllerEnv({ POD_NAMESPACE: 'Bad_NS' }), /POD_NAMESPACE/);
  });
});
