/**
 * The node images for real: build (cached) the OCI archives with e2e/images/build.sh, import
 * them into a throwaway containerd 2.x of their own (own root, state and socket, in a network
 * namespace of this test) and run them. Asserts the upstream names in containerd and in its CRI
 * plugin (pause pinned as the sandbox image), that pause runs as 65535, reaps the orphans of a
 * shared PID namespace and exits 0 on SIGTERM, that agnhost serves and has the tools the e2e
 * specs exec, and that CoreDNS serves a Corefile on port 53 as user 65532. Everything it made
 * is removed afterwards, also when it fails.
 *
 * Needs root, podman, the binaries of the Kubernetes cache (agnhost) and of the node binaries
 * cache (containerd, containerd-shim-runc-v2, ctr, crictl, coredns): WEFT_K8S_BIN_DIR and
 * WEFT_NODE_BIN_DIR, or the newest ~/.cache/weft/k8s-*, nodebin-* dirs.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sleep } from '../../common/backoff.js';
import { runChecked, runCommand } from '../cluster/exec.js';
import { addNetns, deleteNetns } from '../cluster/netns.js';
import { REPO } from '../image/containerized-agent.js';
import { resolveNodeBinDir } from '../nodebin/bins.js';
import { Containerd } from './containerd.js';
import { PAUSE_IMAGE } from './containerd-config.js';
import { ctrExecArgs } from './ctr-args.js';
import { importNodeImages, listCriImages, listImportedImages, readNodeImageArchives } from './import.js';

const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.53';
const COREDNS = 'registry.k8s.io/coredns/coredns:v1.12.0';
const WEFT = `ghcr.io/weft-net/weft:${VERSION}`;
/** The images the upstream sig-network specs run besides agnhost and pause (e2e/conformance/images.md). */
const E2E_IMAGES = [
  'registry.k8s.io/e2e-test-images/jessie-dnsutils:1.7',
  'registry.k8s.io/e2e-test-images/nginx:1.14-4',
  'registry.k8s.io/e2e-test-images/busybox:1.36.1-1',
  'registry.k8s.io/e2e-test-images/regression-issue-74839:1.2',
  'registry.k8s.io/build-image/distroless-iptables:v0.8.11',
];
const NAMES = [AGNHOST, COREDNS, PAUSE_IMAGE, WEFT, ...E2E_IMAGES].sort();

const tag = randomBytes(3).toString('hex');
const netns = `weft-img-${tag}`;
const tmp = mkdtempSync('/tmp/wimg-');

/** Polls `fn` until it returns a value (not undefined) or `ms` pass. */
async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function inNetns(argv: readonly string[]): string[] {
  return ['nsenter', `--net=/var/run/netns/${netns}`, ...argv];
}

describe('node images in a containerd of their own', { timeout: 40 * 60_000 }, () => {
  let ctrd: Containerd | undefined;
  let archiveDir = '';
  let netnsMade = false;

  before(async () => {
    const built = await runCommand(['bash', join(REPO, 'e2e/images/build.sh')], { timeoutMs: 30 * 60_000 });
    assert.equal(built.code, 0, `e2e/images/build.sh failed:\n${built.stderr.slice(-3000)}`);
    archiveDir = built.stdout.trim().split('\n').pop() ?? '';
    const binDir = await resolveNodeBinDir();
    await addNetns(netns);
    netnsMade = true;
    await runChecked(['ip', '-n', netns, 'link', 'set', 'lo', 'up']);
    ctrd = await Containerd.start({ dir: join(tmp, 'c'), binDir, netns, cgroupParent: netns });
  });

  after(async () => {
    try {
      await ctrd?.stop();
    } finally {
      if (netnsMade) await deleteNetns(netns);
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  const c = (): Containerd => {
    assert.ok(ctrd, 'containerd did not start');
    return ctrd;
  };

  it('runs with the config it was given: own root, state and socket, pause as the sandbox image', async () => {
    const dump = await runChecked([
      join(c().opts.binDir, 'containerd'),
      '--config',
      c().paths.config,
      'config',
      'dump',
    ]);
    assert.match(dump, new RegExp(`root = '${c().paths.root}'`));
    assert.match(dump, new RegExp(`state = '${c().paths.state}'`));
    assert.match(dump, new RegExp(`address = '${c().paths.address}'`));
    assert.match(dump, new RegExp(`sandbox = '${PAUSE_IMAGE}'`));
    assert.match(dump, new RegExp(`Root = '${c().paths.runcRoot}'`));
  });

  it('imports every archive under its upstream name; a second import has nothing to do', async () => {
    // The archive dir is the machine's (other checkouts may record more images): this test's own.
    const archives = readNodeImageArchives(archiveDir).filter((a) => NAMES.includes(a.name));
    assert.deepEqual(archives.map((a) => a.name).sort(), NAMES);
    const first = await importNodeImages(c().endpoint, archives);
    assert.ok(first.every((r) => r.imported));
    const images = await listImportedImages(c().endpoint);
    for (const a of archives) assert.equal(images.find((i) => i.name === a.name)?.digest, a.digest, a.name);
    const again = await importNodeImages(c().endpoint, archives);
    assert.ok(again.every((r) => !r.imported));
    // Imported packed: nothing is unpacked until a container needs it.
    assert.deepEqual((await c().ctr(['snapshots', 'ls'])).trim().split('\n').slice(1), []);
    console.log(`imported ${archives.length} archives in ${first.reduce((s, r) => s + r.durationMs, 0)} ms`);
  });

  it('the CRI plugin (what kubelet asks) has them, pause pinned', async () => {
    const cri = await listCriImages(join(c().opts.binDir, 'crictl'), c().address);
    for (const name of NAMES)
      assert.ok(
        cri.some((i) => i.repoTags.includes(name)),
        `${name} not in crictl images`,
      );
    assert.equal(cri.find((i) => i.repoTags.includes(PAUSE_IMAGE))?.pinned, true);
  });

  it('the CRI plugin runs a hostNetwork pod from them, unpacking pause and agnhost on demand', async () => {
    const dir = join(tmp, 'cri');
    mkdirSync(dir);
    const pod = {
      metadata: { name: 'images-check', namespace: 'default', uid: `images-check-${tag}`, attempt: 0 },
      log_directory: dir,
      linux: { cgroup_parent: `/${netns}/cri`, security_context: { namespace_options: { network: 2 } } },
    };
    const container = {
      metadata: { name: 'agnhost' },
      image: { image: AGNHOST },
      args: ['serve-hostname', '--port', '9377'],
      log_path: 'agnhost.log',
    };
    writeFileSync(join(dir, 'pod.json'), JSON.stringify(pod));
    writeFileSync(join(dir, 'container.json'), JSON.stringify(container));
    const t0 = performance.now();
    const podId = (await c().crictl(['runp', join(dir, 'pod.json')], { timeoutMs: 120_000 })).trim();
    const id = (
      await c().crictl(['create', podId, join(dir, 'container.json'), join(dir, 'pod.json')], {
        timeoutMs: 120_000,
      })
    ).trim();
    await c().crictl(['start', id]);
    const served = await waitFor('the CRI container to serve', async () => {
      const r = await runCommand(inNetns(['curl', '-sf', '--max-time', '2', 'http://127.0.0.1:9377/']));
      return r.code === 0 ? r.stdout : undefined;
    });
    console.log(
      `CRI pod with pause and agnhost (unpacked on demand) serving after ${Math.round(performance.now() - t0)} ms`,
    );
    assert.equal(served, hostname());
    await c().crictl(['rmp', '-f', podId]);
  });

  it('pause: runs as 65535, reaps orphans in its PID namespace, exits 0 on SIGTERM', async () => {
    assert.equal(
      (
        await runChecked(c().runArgv({ id: 'pv', image: PAUSE_IMAGE, args: ['/pause', '-v'], rm: true }))
      ).trim(),
      'weft pause 3.10',
    );
    const running = runCommand(c().runArgv({ id: 'pause', image: PAUSE_IMAGE, netHost: true, rm: true }), {
      timeoutMs: 120_000,
    });
    const pid = await waitFor('pause to run', async () => taskPid(await c().ctr(['tasks', 'ls']), 'pause'));
    assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), /^Uid:\s+65535\s/m);
    // A container joining pause's PID namespace leaves an orphan behind, as a pod's containers do.
    await runChecked(
      c().runArgv({
        id: 'orphan',
        image: AGNHOST,
        rm: true,
        args: ['sh', '-c', 'sleep 0.3 & exit 0'],
        joinNamespaces: [{ type: 'pid', path: `/proc/${pid}/ns/pid` }],
      }),
    );
    await sleep(1000);
    const children = await runCommand(['ps', '-o', 'pid=,stat=', '--ppid', String(pid)]);
    assert.equal(children.stdout.trim(), '', `pause left children behind: ${children.stdout}`);
    await c().ctr(['tasks', 'kill', '-s', 'SIGTERM', 'pause']);
    const exit = await running;
    assert.equal(exit.code, 0, `pause exited ${exit.code}: ${exit.stderr}`);
  });

  it('agnhost: serve-hostname and porter (TLS) answer on the namespace loopback; the e2e tools are there', async () => {
    await runChecked(
      c().runArgv({
        id: 'agn',
        image: AGNHOST,
        netHost: true,
        detach: true,
        args: ['/agnhost', 'serve-hostname'],
      }),
    );
    const served = await waitFor('serve-hostname', async () => {
      const r = await runCommand(inNetns(['curl', '-sf', '--max-time', '2', 'http://127.0.0.1:9376/']));
      return r.code === 0 ? r.stdout : undefined;
    });
    assert.equal(served, hostname());
    await runChecked(
      c().runArgv({
        id: 'porter',
        image: AGNHOST,
        netHost: true,
        detach: true,
        args: ['/agnhost', 'porter'],
        env: { SERVE_TLS_PORT_9443: 'tls ok' },
      }),
    );
    const tls = await waitFor('porter over TLS', async () => {
      const r = await runCommand(inNetns(['curl', '-sfk', '--max-time', '2', 'https://127.0.0.1:9443/']));
      return r.code === 0 ? r.stdout : undefined;
    });
    assert.equal(tls, 'tls ok');
    const exec = (id: string, argv: string[]) => c().ctr(ctrExecArgs('agn', id, argv, c().paths.fifoDir));
    const tools = 'sh bash curl wget nc dig nslookup ip ss ping iptables iperf ps timeout hostname getent';
    assert.equal(
      await exec('tools', [
        'sh',
        '-c',
        `for t in ${tools}; do command -v $t >/dev/null || echo missing $t; done`,
      ]),
      '',
    );
    assert.equal((await exec('groups', ['id', '-G', 'user-defined-in-image'])).trim(), '1000 50000');
    assert.equal((await exec('self', ['curl', '-sf', 'http://127.0.0.1:9376/'])).trim(), hostname());
    assert.equal(
      await exec('files', [
        'sh',
        '-c',
        'test -d /uploads && test -x /agnhost-2 && test -x /coredns && echo ok',
      ]),
      'ok\n',
    );
  });

  it('coredns: serves a Corefile on port 53 as user 65532 (file capability, no root)', async () => {
    const conf = join(tmp, 'coredns');
    mkdirSync(conf);
    writeFileSync(join(conf, 'Corefile'), '.:53 {\n  hosts {\n    192.0.2.53 probe.weft.test\n  }\n}\n');
    // ctr sets no_new_privs by default, which disables file capabilities; a kubelet pod gets
    // net.ipv4.ip_unprivileged_port_start=0 from containerd's CRI instead.
    await runChecked(
      c().runArgv({
        id: 'dns',
        image: COREDNS,
        netHost: true,
        detach: true,
        args: ['/coredns', '-conf', '/etc/coredns/Corefile'],
        mounts: [{ source: conf, target: '/etc/coredns', readOnly: true }],
        allowNewPrivileges: true,
      }),
    );
    const pid = await waitFor('coredns to run', async () => taskPid(await c().ctr(['tasks', 'ls']), 'dns'));
    assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), /^Uid:\s+65532\s/m);
    const answer = await waitFor('coredns to answer', async () => {
      const dig = ['dig', '+short', '+time=1', '+tries=1', '@127.0.0.1', 'probe.weft.test'];
      const r = await c().ctrResult(ctrExecArgs('agn', `dig${Date.now()}`, dig, c().paths.fifoDir));
      return r.code === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : undefined;
    });
    assert.equal(answer, '192.0.2.53');
  });
});

/** The pid of task `id` in `ctr tasks ls` output when it is RUNNING. */
function taskPid(out: string, id: string): number | undefined {
  for (const line of out.split('\n')) {
    const [task, pid, status] = line.trim().split(/\s+/);
    if (task === id && status === 'RUNNING') return Number(pid);
  }
  return undefined;
}
