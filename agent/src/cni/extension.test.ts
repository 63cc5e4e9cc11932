import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../../../common/log.js';
import { parseAgentOptions } from '../config/agent-options.js';
import type { LocalNetwork } from '../local-network.js';
import { OPEN_POD_GATE } from '../pod-gate.js';
import { createCniExtension } from './extension.js';

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

async function waitUntil(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('CNI extension', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'weft-cni-ext-'));
    await mkdir(join(root, 'plugins'));
    // Broken at first (exits without reading stdin): no conflist until it answers VERSION.
    await writeFile(join(root, 'plugins', 'portmap'), '#!/bin/sh\nexit 1\n');
    await chmod(join(root, 'plugins', 'portmap'), 0o755);
    await writeFile(join(root, 'shim'), 'shim-binary');
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('serves the socket at once, installs portmap, shim and conflist only once the node network is ready and portmap answers', async () => {
    const opts = parseAgentOptions([], {
      NODE_NAME: 'n1',
      WEFT_CNI_BIN_DIR: join(root, 'bin'),
      WEFT_CNI_CONF_DIR: join(root, 'conf'),
      WEFT_RUN_DIR: join(root, 'run'),
      WEFT_STATE_DIR: join(root, 'state'),
      WEFT_CNI_SHIM: join(root, 'shim'),
    });
    let net: LocalNetwork | undefined;
    const listeners = new Set<() => void>();
    const synced = () => {
      for (const l of [...listeners]) l();
    };
    const ac = new AbortController();
    const ext = createCniExtension({ portmapSources: [join(root, 'plugins')], retryBaseMs: 10 });
    assert.deepEqual(ext.ipamUsage(), []);
    const running = ext.start({
      opts,
      log: silentLogger(),
      registry: new Registry(),
      localNetwork: () => net,
      podGate: OPEN_POD_GATE,
      signal: ac.signal,
      loop: {
        onSynced: (l) => {
          const f = () => l(undefined as never, undefined as never, 0);
          listeners.add(f);
          return () => listeners.delete(f);
        },
      },
    });
    const socket = join(root, 'run', 'cni.sock');
    const conflist = join(root, 'conf', '10-weft.conflist');
    try {
      await waitUntil('the socket', () => exists(socket));
      synced(); // a pass that leaves the node without a usable network (no podCIDR yet)
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(await exists(conflist), false, 'no conflist before the node network is ready');

      net = { nodeName: 'n1', podCIDRs: ['10.244.1.0/24'], clusterCIDRs: [], bridge: 'weft0', mtu: 1450 };
      synced();
      await waitUntil('portmap copied', () => exists(join(root, 'bin', 'portmap')));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(await exists(conflist), false, 'no conflist while portmap cannot tell its versions');
      const versions = { cniVersion: '1.1.0', supportedVersions: ['0.4.0', '1.0.0', '1.1.0'] };
      await writeFile(join(root, 'bin', 'portmap'), `#!/bin/sh\necho '${JSON.stringify(versions)}'\n`);
      await waitUntil('the conflist', () => exists(conflist));
      assert.equal(await readFile(join(root, 'bin', 'weft'), 'utf8'), 'shim-binary');
      assert.ok(await exists(join(root, 'bin', 'portmap')));
      const written = JSON.parse(await readFile(conflist, 'utf8')) as {
        cniVersion: string;
        cniVersions?: string[];
        plugins: { socket?: string }[];
      };
      assert.equal(written.plugins[0]?.socket, socket);
      assert.deepEqual([written.cniVersion, written.cniVersions], ['1.0.0', ['0.4.0', '1.0.0', '1.1.0']]);
      assert.deepEqual(ext.ipamUsage(), [{ network: 'weft', allocated: 0, capacity: 253 }]);
    } finally {
      ac.abort();
      await running;
    }
    assert.equal(await exists(socket), false, 'socket removed on shutdown');
    assert.ok(
      await exists(conflist),
      'the conflist stays: a restarting agent must not take the node offline',
    );
  });
});
