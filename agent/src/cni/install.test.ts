import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ConflistVersions, chooseConflistVersions } from './conflist-version.js';
import { computeConflist, installCniFiles } from './install.js';
import { PluginVersionError, parseVersionAnswer, probePluginVersions } from './plugin-version.js';
import type { CniVersion } from './versions.js';

const DEBIAN_1_1_1 = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0'];
const PLUGINS_1_X = [...DEBIAN_1_1_1, '1.1.0'];
const ALL_WEFT: CniVersion[] = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];

/** A plugin stand-in: a shell script answering VERSION with `answer` (and ignoring stdin). */
async function fakePlugin(dir: string, body: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'portmap');
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}
const answering = (versions: readonly string[]) =>
  `echo '${JSON.stringify({ cniVersion: '1.0.0', supportedVersions: versions })}'`;

describe('conflist versions', () => {
  const cases: Array<[string, string[], ConflistVersions | RegExp]> = [
    ["Debian's portmap 1.1.1 (up to 1.0.0)", DEBIAN_1_1_1, { cniVersion: '1.0.0', cniVersions: undefined }],
    ['containernetworking/plugins 1.x (1.1.0)', PLUGINS_1_X, { cniVersion: '1.0.0', cniVersions: ALL_WEFT }],
    [
      'a future portmap (1.2.0, unknown to Weft)',
      [...PLUGINS_1_X, '1.2.0'],
      { cniVersion: '1.0.0', cniVersions: ALL_WEFT },
    ],
    ['listed out of order', ['1.1.0', '1.0.0'], { cniVersion: '1.0.0', cniVersions: ['1.0.0', '1.1.0'] }],
    [
      'an old portmap (0.8, up to 0.4.0)',
      ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0'],
      { cniVersion: '0.4.0', cniVersions: undefined },
    ],
    ['only 1.1.0', ['1.1.0'], { cniVersion: '1.1.0', cniVersions: undefined }],
    ['only versions Weft does not speak', ['0.1.0', '0.2.0'], /no version in common/],
    ['nothing', [], /portmap supports CNI nothing/],
  ];
  for (const [what, plugin, want] of cases) {
    it(what, () => {
      if (want instanceof RegExp) assert.throws(() => chooseConflistVersions(plugin), want);
      else assert.deepEqual(chooseConflistVersions(plugin), want);
    });
  }

  it('the conflist chains portmap after weft, carries the socket, and cniVersions only when chosen', () => {
    const plain = JSON.parse(
      computeConflist('weft', { cniVersion: '1.0.0', cniVersions: undefined }, '/run/weft/cni.sock'),
    );
    assert.deepEqual(plain, {
      cniVersion: '1.0.0',
      name: 'weft',
      plugins: [
        { type: 'weft', socket: '/run/weft/cni.sock' },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    });
    const both = JSON.parse(
      computeConflist('weft', { cniVersion: '1.0.0', cniVersions: ['1.0.0', '1.1.0'] }, '/s'),
    );
    assert.deepEqual(Object.keys(both), ['cniVersion', 'cniVersions', 'name', 'plugins']);
    assert.deepEqual(both.cniVersions, ['1.0.0', '1.1.0']);
  });
});

describe('the VERSION answer of a plugin', () => {
  const answers: Array<[string, string, string[] | RegExp]> = [
    [
      'a spec answer',
      JSON.stringify({ cniVersion: '1.1.0', supportedVersions: ['1.0.0', '1.1.0'] }),
      ['1.0.0', '1.1.0'],
    ],
    ['not JSON', 'portmap: unknown command', /not JSON/],
    ['no list', '{"cniVersion":"1.0.0"}', /no supportedVersions/],
    ['an empty list', '{"supportedVersions":[]}', /no supportedVersions/],
    ['a list of numbers', '{"supportedVersions":[1]}', /no supportedVersions/],
    ['null', 'null', /no supportedVersions/],
  ];
  for (const [what, stdout, want] of answers) {
    it(what, () => {
      if (want instanceof RegExp) assert.throws(() => parseVersionAnswer(stdout), want);
      else assert.deepEqual(parseVersionAnswer(stdout), want);
    });
  }
});

describe('probing and installing', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'weft-install-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('asks the binary with CNI_COMMAND=VERSION', async () => {
    const path = await fakePlugin(
      join(root, 'echo-env'),
      `[ "$CNI_COMMAND" = VERSION ] || exit 3\n${answering(PLUGINS_1_X)}`,
    );
    assert.deepEqual(await probePluginVersions(path), PLUGINS_1_X);
  });

  const broken: Array<[string, string, RegExp]> = [
    ['exits 1 without reading stdin', 'exit 1', /VERSION failed: exit 1$/],
    [
      'prints an error object',
      `echo '{"code":4,"msg":"bad"}'; exit 1`,
      /VERSION failed: exit 1 \(\{"code":4,"msg":"bad"\}\)$/,
    ],
    ['prints garbage', 'echo hello', /not JSON/],
    ['hangs', 'sleep 5', /no answer within 200 ms/],
  ];
  for (const [what, body, want] of broken) {
    it(`a portmap that ${what} gives a PluginVersionError`, async () => {
      const path = await fakePlugin(join(root, what.replaceAll(' ', '-')), body);
      const err = await probePluginVersions(path, 200).then(
        () => assert.fail('expected an error'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof PluginVersionError, String(err));
      assert.match(err.message, want);
    });
  }

  it('a binary that does not exist gives a PluginVersionError', async () => {
    await assert.rejects(probePluginVersions(join(root, 'nowhere', 'portmap')), PluginVersionError);
  });

  async function install(pluginDirs: string[], name: string) {
    const shim = join(root, 'shim');
    await writeFile(shim, 'shim-binary');
    const dirs = { binDir: join(root, name, 'bin'), confDir: join(root, name, 'conf') };
    const r = await installCniFiles({
      ...dirs,
      shimSource: shim,
      socketPath: '/run/weft/cni.sock',
      pluginDirs,
    });
    return { r, conflist: join(dirs.confDir, '10-weft.conflist'), dirs };
  }

  it('writes cniVersions for a portmap that speaks 1.1.0, asking the first portmap on the path', async () => {
    const first = join(root, 'new-portmap');
    await fakePlugin(first, answering(PLUGINS_1_X));
    const second = join(root, 'old-portmap');
    await fakePlugin(second, answering(DEBIAN_1_1_1));
    const { r, conflist } = await install([join(root, 'empty'), first, second], 'new');
    assert.deepEqual(r.portmap, { path: join(first, 'portmap'), supportedVersions: PLUGINS_1_X });
    const doc = JSON.parse(await readFile(conflist, 'utf8'));
    assert.equal(doc.cniVersion, '1.0.0');
    assert.deepEqual(doc.cniVersions, ALL_WEFT);
  });

  it("keeps Debian's portmap at 1.0.0 without cniVersions, and rewrites nothing unchanged", async () => {
    const dir = join(root, 'debian');
    await fakePlugin(dir, answering(DEBIAN_1_1_1));
    const once = await install([dir], 'debian');
    assert.equal(JSON.parse(await readFile(once.conflist, 'utf8')).cniVersions, undefined);
    assert.equal(once.r.cniVersion, '1.0.0');
    const mtime = (await stat(once.conflist)).mtimeMs;
    const again = await install([dir], 'debian');
    assert.deepEqual([again.r.shimWritten, again.r.conflistWritten], [false, false]);
    assert.equal((await stat(once.conflist)).mtimeMs, mtime);
  });

  it('writes no conflist when portmap cannot tell its versions or is missing', async () => {
    const dir = join(root, 'broken');
    await fakePlugin(dir, 'exit 1');
    await assert.rejects(install([dir], 'broken'), PluginVersionError);
    await assert.rejects(stat(join(root, 'broken', 'conf', '10-weft.conflist')), { code: 'ENOENT' });
    await assert.rejects(install([join(root, 'empty')], 'none'), { code: 'ENOPORTMAP' });
  });
});
