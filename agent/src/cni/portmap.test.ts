import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensurePortmap } from './portmap.js';

describe('ensurePortmap', () => {
  let root: string;
  const dir = (name: string) => join(root, name);
  async function plugin(d: string, body: string): Promise<void> {
    await mkdir(d, { recursive: true });
    await writeFile(join(d, 'portmap'), body);
    await chmod(join(d, 'portmap'), 0o755);
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'weft-portmap-'));
    await plugin(dir('usr-lib-cni'), 'distro');
    await plugin(dir('opt-cni-bin'), 'opt');
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('copies from the first source that has one, executable, when the bin dir lacks it', async () => {
    const target = dir('not-yet-created/bin');
    const r = await ensurePortmap(target, [dir('nothing-here'), dir('usr-lib-cni'), dir('opt-cni-bin')]);
    assert.deepEqual(r, { action: 'copied', from: join(dir('usr-lib-cni'), 'portmap') });
    assert.equal(await readFile(join(target, 'portmap'), 'utf8'), 'distro');
    assert.equal((await stat(join(target, 'portmap'))).mode & 0o777, 0o755);
  });

  it("never replaces the node's own portmap", async () => {
    const target = dir('own-bin');
    await plugin(target, 'node-own');
    assert.deepEqual(await ensurePortmap(target, [dir('usr-lib-cni')]), { action: 'present' });
    assert.equal(await readFile(join(target, 'portmap'), 'utf8'), 'node-own');
  });

  it('skips the target itself as a source and reports what it searched', async () => {
    const target = dir('bare');
    await mkdir(target);
    const r = await ensurePortmap(`${target}/`, [target, dir('nothing-here')]);
    assert.deepEqual(r, { action: 'missing', searched: [dir('nothing-here')] });
  });
});
