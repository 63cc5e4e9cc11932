/**
 * A real-node cluster that cannot start says why in one line naming the log to read, and
 * leaves nothing behind: no namespace, no mount, no cgroup, the kernel tunables as they were.
 * Needs the node images (scripts/test.sh includes this file only with the image tests).
 */
import assert from 'node:assert/strict';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ClusterError, destroyCluster, resolveBinDir, startCluster } from '../cluster/index.js';
import { listNetns } from '../cluster/netns.js';
import { KUBELET_TUNABLES, PROC_SYS } from '../realnode/kernel-tunables.js';

const NAME = 'rnf';

function machineState() {
  return {
    tunables: Object.keys(KUBELET_TUNABLES).map((k) => `${k}=${PROC_SYS.read(k)}`),
    mounts: readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .filter((l) => l.includes(`/weft-e2e/${NAME}`)),
    cgroups: readdirSync('/sys/fs/cgroup/pids').filter((d) => d.startsWith(`weft-${NAME}-`)),
  };
}

async function assertNothingLeft(before: ReturnType<typeof machineState>): Promise<void> {
  assert.deepEqual(
    (await listNetns()).filter((n) => n.startsWith(`wc${NAME}-`)),
    [],
  );
  assert.deepEqual(machineState(), before);
}

describe('real nodes that cannot start', { timeout: 300_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'weft-rnf-'));
  after(async () => {
    await destroyCluster(NAME);
    rmSync(tmp, { recursive: true, force: true });
  });

  it('no node images: up stops naming what to run, and cleans up', async () => {
    await destroyCluster(NAME);
    const before = machineState();
    const empty = join(tmp, 'no-images');
    mkdirSync(empty);
    const saved = process.env.WEFT_NODE_IMAGES_DIR;
    process.env.WEFT_NODE_IMAGES_DIR = empty;
    try {
      await assert.rejects(
        startCluster({ name: NAME, nodes: 1, subnets: 1, kubelet: true }),
        (e: Error & { code?: string }) =>
          e.code === 'ENOARCHIVES' && e.message.includes('run e2e/images/build.sh'),
      );
    } finally {
      if (saved === undefined) delete process.env.WEFT_NODE_IMAGES_DIR;
      else process.env.WEFT_NODE_IMAGES_DIR = saved;
    }
    await assertNothingLeft(before);
  });

  it('a kubelet that exits: up stops with the node, the component and its log, and cleans up', async () => {
    await destroyCluster(NAME);
    const before = machineState();
    // The real binaries, but a kubelet that refuses to start as a misconfigured one does.
    const real = await resolveBinDir();
    const bin = join(tmp, 'bin');
    mkdirSync(bin);
    for (const f of readdirSync(real)) if (f !== 'kubelet') symlinkSync(join(real, f), join(bin, f));
    writeFileSync(
      join(bin, 'kubelet'),
      '#!/bin/sh\necho "E1201 run.go:72] command failed err=\\"bad config\\"" >&2\nexit 1\n',
    );
    chmodSync(join(bin, 'kubelet'), 0o755);
    await assert.rejects(
      startCluster({ name: NAME, nodes: 1, subnets: 1, kubelet: true, binDir: bin }),
      (e: unknown) => {
        assert.ok(e instanceof ClusterError, String(e));
        assert.equal(e.code, 'ENODESTART');
        const first = e.message.split('\n')[0] ?? '';
        assert.match(
          first,
          new RegExp(
            `^node ${NAME}-node1: kubelet exited; read /tmp/weft-e2e/${NAME}/logs/${NAME}-node1-kubelet.log$`,
          ),
        );
        assert.match(e.message, /command failed err="bad config"/, 'the log tail follows');
        return true;
      },
    );
    await assertNothingLeft(before);
  });
});
