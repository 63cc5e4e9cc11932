import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseCniVersion, computeConflist } from './install.js';

describe('install', () => {
  it('conflist chains portmap after weft and carries the socket', () => {
    const c = JSON.parse(computeConflist('weft', '1.1.0', '/run/weft/cni.sock'));
    assert.deepEqual(c, {
      cniVersion: '1.1.0',
      name: 'weft',
      plugins: [
        { type: 'weft', socket: '/run/weft/cni.sock' },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    });
  });
  it('picks the newest version portmap also speaks', () => {
    assert.equal(chooseCniVersion(['0.1.0', '0.4.0', '1.0.0']), '1.0.0');
    assert.equal(chooseCniVersion(['1.0.0', '1.1.0', '1.2.0']), '1.1.0');
    assert.equal(chooseCniVersion([]), '1.1.0');
  });
});
