import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { createLogger } from '../../../common/log.js';
import { WireguardManager } from './manager.js';

describe('WireguardManager', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('without an implementation: the key is made, the metric says none, and a sync refuses (never clear text)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weft-wgm-'));
    dirs.push(dir);
    const registry = new Registry();
    const m = await WireguardManager.create({
      device: 'weft.wg',
      stateDir: join(dir, 'state'),
      wireguardGo: '/nonexistent/wireguard-go',
      runDir: join(dir, 'run'),
      log: createLogger('test', 'silent'),
      registry,
      implementation: { kind: 'none', reason: 'no kernel module; wireguard-go needs /dev/net/tun' },
    });
    assert.equal((await stat(join(dir, 'state', 'wireguard.key'))).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'run', 'wireguard'))).isDirectory(), true);
    const text = await registry.metrics();
    assert.match(text, /weft_wireguard_implementation\{implementation="none"\} 1/);
    assert.match(text, /weft_wireguard_implementation\{implementation="userspace"\} 0/);
    await assert.rejects(
      m.sync(
        {
          device: 'weft.wg',
          listenPort: 51820,
          underlayMtu: 1500,
          addresses: [],
          peers: [],
          keyless: [],
        },
        true,
      ),
      (err: unknown) => err instanceof Error && 'code' in err && err.code === 'ENOIMPL',
    );
    assert.equal(m.status().implementation, 'none');
    assert.equal(m.status().publicKey, m.publicKey);
    m.close();
  });
});
