import assert from 'node:assert/strict';
import { chmodSync, closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCommand } from '../cluster/exec.js';
import { CONTROL_PLANE_BINARIES, checkBinDir, NODE_K8S_BINARIES, repoRoot } from '../cluster/prereq.js';
import { CNI_DIR, CNI_PLUGINS, checkNodeBinDir, NODE_BINARIES } from './bins.js';

const KUBE_VERSION = 'v1.33.13';
const AGNHOST_VERSION = '2.53';
const CONTAINERD_VERSION = 'v2.3.7';
const CRICTL_VERSION = '1.34.0';
const CNI_PLUGINS_VERSION = 'v1.10.0';
const COREDNS_VERSION = '1.12.0';
/**
 * kubeadm's default Corefile plus log and hosts (`prometheus` is the metrics plugin's directive),
 * and what those import: debug and dnstap (forward), metadata, transfer (kubernetes).
 */
const COREDNS_PLUGINS = [
  'cache',
  'debug',
  'dnstap',
  'errors',
  'forward',
  'health',
  'hosts',
  'kubernetes',
  'loadbalance',
  'log',
  'loop',
  'metadata',
  'prometheus',
  'ready',
  'reload',
  'transfer',
];
const BUILD_TIMEOUT_MS = 90 * 60_000;

/** The last line the build script prints (its output directory); fails the test when the script does. */
async function buildDir(script: string, env?: Record<string, string>): Promise<string> {
  const r = await runCommand(['bash', join(repoRoot(), script)], {
    timeoutMs: BUILD_TIMEOUT_MS,
    ...(env ? { env } : {}),
  });
  assert.equal(r.code, 0, `${script} exited ${r.code}: ${r.stderr.trim().split('\n').slice(-10).join('\n')}`);
  const dir = r.stdout.trim().split('\n').pop() ?? '';
  assert.match(dir, /^\//, `${script} printed no directory`);
  return dir;
}

/** Runs `file args` and returns stdout and stderr together; fails the test on a non-zero exit. */
async function output(file: string, args: string[], env?: Record<string, string>): Promise<string> {
  const r = await runCommand([file, ...args], env ? { env } : {});
  assert.equal(r.code, 0, `${file} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout + r.stderr;
}

const PT_INTERP = 3;

/** True when the 64-bit ELF at `path` names no program interpreter: it runs without ld.so and libc. */
function isStaticElf(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const header = Buffer.alloc(64);
    readSync(fd, header, 0, 64, 0);
    assert.equal(header.toString('latin1', 0, 4), '\x7fELF', `${path} is not an ELF file`);
    assert.equal(header[4], 2, `${path} is not a 64-bit ELF file`);
    const phoff = Number(header.readBigUInt64LE(0x20));
    const phentsize = header.readUInt16LE(0x36);
    const phnum = header.readUInt16LE(0x38);
    const table = Buffer.alloc(phentsize * phnum);
    readSync(fd, table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) {
      if (table.readUInt32LE(i * phentsize) === PT_INTERP) return false;
    }
    return true;
  } finally {
    closeSync(fd);
  }
}

describe('node binaries built from the Go module proxy (e2e/controlplane/build.sh, e2e/nodebin/build.sh)', () => {
  let k8s = '';
  let node = '';
  const fakeGo = mkdtempSync(join(tmpdir(), 'weft-nodebin-'));
  after(() => rmSync(fakeGo, { recursive: true, force: true }));

  before(
    async () => {
      k8s = await buildDir('e2e/controlplane/build.sh');
      node = await buildDir('e2e/nodebin/build.sh');
    },
    { timeout: BUILD_TIMEOUT_MS },
  );

  it('a warm cache answers with the same directories without running Go', async () => {
    writeFileSync(join(fakeGo, 'go'), '#!/bin/sh\necho "go must not run on a cache hit" >&2\nexit 1\n');
    chmodSync(join(fakeGo, 'go'), 0o755);
    const env = { PATH: `${fakeGo}:${process.env.PATH ?? '/usr/bin:/bin'}` };
    assert.equal(await buildDir('e2e/controlplane/build.sh', env), k8s);
    assert.equal(await buildDir('e2e/nodebin/build.sh', env), node);
  });

  it('every binary is there and statically linked', () => {
    const k8sBins = [...CONTROL_PLANE_BINARIES, ...NODE_K8S_BINARIES];
    const nodeBins = [...NODE_BINARIES, ...CNI_PLUGINS.map((p) => join(CNI_DIR, p))];
    checkBinDir(k8s, k8sBins);
    checkNodeBinDir(node);
    for (const p of [...k8sBins.map((b) => join(k8s, b)), ...nodeBins.map((b) => join(node, b))]) {
      assert.ok(isStaticElf(p), `${p} is dynamically linked`);
    }
  });

  it(`kubelet, kube-proxy and kube-scheduler report Kubernetes ${KUBE_VERSION}`, async () => {
    for (const b of ['kubelet', 'kube-proxy', 'kube-scheduler']) {
      assert.equal((await output(join(k8s, b), ['--version'])).trim(), `Kubernetes ${KUBE_VERSION}`, b);
    }
  });

  it(`agnhost reports ${AGNHOST_VERSION} and has the commands the NetworkPolicy specs run`, async () => {
    const agnhost = join(k8s, 'agnhost');
    assert.match(await output(agnhost, ['--version']), new RegExp(`version ${AGNHOST_VERSION}\\n`));
    const help = await output(agnhost, ['--help']);
    for (const cmd of ['connect', 'porter', 'serve-hostname', 'netexec']) {
      assert.match(help, new RegExp(`^\\s+${cmd}\\s`, 'm'), `agnhost has no ${cmd} command`);
    }
  });

  it(`containerd, its runc shim and ctr report ${CONTAINERD_VERSION}`, async () => {
    const pkg = 'github.com/containerd/containerd/v2';
    assert.match(
      await output(join(node, 'containerd'), ['--version']),
      new RegExp(`^containerd ${pkg} ${CONTAINERD_VERSION}\\b`),
    );
    assert.match(
      await output(join(node, 'ctr'), ['--version']),
      new RegExp(`^ctr ${pkg} ${CONTAINERD_VERSION}\\n`),
    );
    assert.match(
      await output(join(node, 'containerd-shim-runc-v2'), ['-v']),
      new RegExp(`Version:\\s+${CONTAINERD_VERSION}\\n`),
    );
  });

  it(`crictl reports ${CRICTL_VERSION}`, async () => {
    assert.equal(
      (await output(join(node, 'crictl'), ['--version'])).trim(),
      `crictl version ${CRICTL_VERSION}`,
    );
  });

  it(`CoreDNS ${COREDNS_VERSION} has exactly the cluster-DNS plugins compiled in`, async () => {
    const coredns = join(node, 'coredns');
    assert.match(await output(coredns, ['-version']), new RegExp(`^CoreDNS-${COREDNS_VERSION}\\n`));
    // One registered plugin a line; the order of dnsserver.Directives is checked when the
    // binary starts (main.go), so a plugin without a place in it fails this run.
    const listed = (await output(coredns, ['-plugins']))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .sort();
    assert.deepEqual(listed, COREDNS_PLUGINS);
  });

  it(`the CNI plugins answer VERSION per the spec and name release ${CNI_PLUGINS_VERSION}`, async () => {
    for (const p of CNI_PLUGINS) {
      const bin = join(node, CNI_DIR, p);
      const r = await runCommand([bin], { env: { CNI_COMMAND: 'VERSION' }, input: '{"cniVersion":"1.0.0"}' });
      assert.equal(r.code, 0, `${p} VERSION exited ${r.code}: ${r.stdout}${r.stderr}`);
      const info = JSON.parse(r.stdout) as { cniVersion?: string; supportedVersions?: string[] };
      assert.ok(info.supportedVersions?.includes('1.0.0'), `${p} does not support CNI 1.0.0: ${r.stdout}`);
      // Without CNI_COMMAND a plugin prints its "about" line.
      const about = await runCommand([bin], { env: { CNI_COMMAND: '' } });
      assert.match(about.stdout + about.stderr, new RegExp(`CNI ${p} plugin ${CNI_PLUGINS_VERSION}\\b`));
    }
  });
});
