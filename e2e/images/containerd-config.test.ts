import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containerdPaths, PAUSE_IMAGE, renderContainerdConfig } from './containerd-config.js';
import { ctrExecArgs, ctrRunArgs } from './ctr-args.js';
import { mountsUnder } from './host-cleanup.js';

/**
 * The rendered config as `<table>.<key>` → raw value. Enough TOML for this file's shape (tables
 * and one-line key = value); a repeated table or key is a TOML error and fails here too.
 */
function flatten(toml: string): Map<string, string> {
  const out = new Map<string, string>();
  const tables = new Set<string>();
  let table = '';
  for (const line of toml.split('\n').map((l) => l.trim())) {
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      table = header[1] as string;
      assert.ok(!tables.has(table), `table [${table}] twice`);
      tables.add(table);
      continue;
    }
    const kv = /^([A-Za-z_]+) = (.+)$/.exec(line);
    assert.ok(kv, `not a key = value line: ${line}`);
    const key = table === '' ? (kv[1] as string) : `${table}.${kv[1]}`;
    assert.ok(!out.has(key), `key ${key} twice`);
    out.set(key, kv[2] as string);
  }
  return out;
}

const CRI = "plugins.'io.containerd.cri.v1.runtime'";
const RUNC = `${CRI}.containerd.runtimes.runc`;

describe('containerd config', () => {
  it('puts every path of the instance under its directory', () => {
    const p = containerdPaths('/tmp/wc1');
    const conf = flatten(renderContainerdConfig(p));
    assert.equal(conf.get('version'), '3');
    assert.equal(conf.get('root'), '"/tmp/wc1/root"');
    assert.equal(conf.get('state'), '"/tmp/wc1/state"');
    assert.equal(conf.get('temp'), '"/tmp/wc1/tmp"');
    assert.equal(conf.get('grpc.address'), '"/tmp/wc1/containerd.sock"');
    assert.equal(conf.get('ttrpc.address'), '"/tmp/wc1/containerd.sock.ttrpc"');
    assert.equal(conf.get("plugins.'io.containerd.internal.v1.opt'.path"), '"/tmp/wc1/opt"');
    assert.equal(conf.get(`${RUNC}.options.Root`), '"/tmp/wc1/state/runc"');
    assert.equal(conf.get("plugins.'io.containerd.shim.v1.manager'.socket_dir"), '"/tmp/wc1/s"');
    assert.equal(conf.get(`${CRI}.cni.bin_dirs`), '["/tmp/wc1/cni/bin"]');
    assert.equal(conf.get(`${CRI}.cni.conf_dir`), '"/tmp/wc1/cni/net.d"');
    const paths = [...conf.values()].flatMap((v) =>
      [...v.matchAll(/"(\/[^"]*)"/g)].map((m) => m[1] as string),
    );
    const outside = paths.filter((x) => !x.startsWith('/tmp/wc1/') && x !== '/usr/sbin/runc');
    assert.deepEqual(outside, []);
  });

  it('runs runc with cgroupfs, CRI on overlayfs with the pinned pause image, NRI and TCP off', () => {
    const conf = flatten(renderContainerdConfig(containerdPaths('/tmp/wc1')));
    assert.equal(conf.get(`${RUNC}.runtime_type`), '"io.containerd.runc.v2"');
    assert.equal(conf.get(`${RUNC}.options.BinaryName`), '"/usr/sbin/runc"');
    assert.equal(conf.get(`${RUNC}.options.SystemdCgroup`), 'false');
    assert.equal(conf.get(`${CRI}.containerd.default_runtime_name`), '"runc"');
    assert.equal(conf.get(`${CRI}.netns_mounts_under_state_dir`), 'false');
    assert.equal(conf.get(`${CRI}.restrict_oom_score_adj`), 'true');
    assert.equal(conf.get("plugins.'io.containerd.cri.v1.images'.snapshotter"), '"overlayfs"');
    assert.equal(conf.get("plugins.'io.containerd.cri.v1.images'.pinned_images.sandbox"), `"${PAUSE_IMAGE}"`);
    assert.equal(conf.get("plugins.'io.containerd.nri.v1.nri'.disable"), 'true');
    assert.equal(conf.get("plugins.'io.containerd.grpc.v1.cri'.disable_tcp_service"), 'true');
    assert.equal(conf.get("plugins.'io.containerd.grpc.v1.cri'.stream_server_address"), '"127.0.0.1"');
    assert.equal(conf.get("plugins.'io.containerd.grpc.v1.cri'.stream_server_port"), '"0"');
    assert.equal(conf.get('required_plugins'), '["io.containerd.grpc.v1.cri"]');
    assert.match(conf.get('disabled_plugins') ?? '', /"io\.containerd\.snapshotter\.v1\.btrfs"/);
    assert.doesNotMatch(conf.get('disabled_plugins') ?? '', /overlayfs/);
  });

  it('takes the options it is given', () => {
    const conf = flatten(
      renderContainerdConfig(containerdPaths('/tmp/wc1'), {
        sandboxImage: 'registry.k8s.io/pause:3.10.2',
        runcBinary: '/opt/bin/runc',
        cniBinDirs: ['/opt/cni/bin', '/usr/lib/cni'],
        cniConfDir: '/n1/etc/cni/net.d',
        disabledPlugins: [],
        streamServerAddress: '172.28.1.11',
        streamServerPort: 10010,
        netnsMountsUnderStateDir: true,
        restrictOomScoreAdj: false,
      }),
    );
    assert.equal(
      conf.get("plugins.'io.containerd.cri.v1.images'.pinned_images.sandbox"),
      '"registry.k8s.io/pause:3.10.2"',
    );
    assert.equal(conf.get(`${RUNC}.options.BinaryName`), '"/opt/bin/runc"');
    assert.equal(conf.get(`${CRI}.cni.bin_dirs`), '["/opt/cni/bin", "/usr/lib/cni"]');
    assert.equal(conf.get(`${CRI}.cni.conf_dir`), '"/n1/etc/cni/net.d"');
    assert.equal(conf.get('disabled_plugins'), '[]');
    assert.equal(conf.get("plugins.'io.containerd.grpc.v1.cri'.stream_server_address"), '"172.28.1.11"');
    assert.equal(conf.get("plugins.'io.containerd.grpc.v1.cri'.stream_server_port"), '"10010"');
    assert.equal(conf.get(`${CRI}.netns_mounts_under_state_dir`), 'true');
    assert.equal(conf.get(`${CRI}.restrict_oom_score_adj`), 'false');
  });

  it('leaves the shim socket dir to containerd when the path is too long for it', () => {
    const p = containerdPaths('/tmp/weft-e2e/cluster-name/nodes/node12/containerd');
    assert.equal(p.shimSocketDir, undefined);
    assert.ok(!renderContainerdConfig(p).includes('io.containerd.shim.v1.manager'));
  });

  it('escapes quotes and refuses control characters', () => {
    const conf = flatten(renderContainerdConfig(containerdPaths('/tmp/a"b')));
    assert.equal(conf.get('root'), '"/tmp/a\\"b/root"');
    assert.throws(() => renderContainerdConfig(containerdPaths('/tmp/a\nb')), /control character/);
  });
});

describe('ctr argv', () => {
  const inst = {
    runcBinary: '/usr/sbin/runc',
    runcRoot: '/c/state/runc',
    fifoDir: '/c/fifo',
    cgroupParent: 'wi-1',
  };

  it('runs in the instance: its runc and root, FIFOs, and a cgroup under the parent', () => {
    const a = ctrRunArgs({ id: 'agn', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53' }, inst);
    assert.deepEqual(a, [
      'run',
      '--runc-binary',
      '/usr/sbin/runc',
      '--runc-root',
      '/c/state/runc',
      '--fifo-dir',
      '/c/fifo',
      '--cgroup',
      '/wi-1/agn',
      'registry.k8s.io/e2e-test-images/agnhost:2.53',
      'agn',
    ]);
  });

  it('puts flags before the image and the command after the id', () => {
    const a = ctrRunArgs(
      {
        id: 'dns',
        image: 'img:1',
        args: ['/coredns', '-conf', '/etc/coredns/Corefile'],
        netHost: true,
        detach: true,
        mounts: [{ source: '/c/corefile', target: '/etc/coredns', readOnly: true }],
        env: { A: 'b' },
        joinNamespaces: [{ type: 'pid', path: '/proc/7/ns/pid' }],
        allowNewPrivileges: true,
      },
      inst,
    );
    const image = a.indexOf('img:1');
    for (const f of ['--net-host', '--detach', '--mount', '--env', '--with-ns', '--allow-new-privs']) {
      assert.ok(a.indexOf(f) >= 0 && a.indexOf(f) < image, f);
    }
    assert.equal(a[a.indexOf('--with-ns') + 1], 'pid:/proc/7/ns/pid');
    assert.equal(a[a.indexOf('--env') + 1], 'A=b');
    assert.equal(a[a.indexOf('--mount') + 1], 'type=bind,src=/c/corefile,dst=/etc/coredns,options=rbind:ro');
    assert.deepEqual(a.slice(image), ['img:1', 'dns', '/coredns', '-conf', '/etc/coredns/Corefile']);
    assert.throws(() =>
      ctrRunArgs({ id: 'x', image: 'i', mounts: [{ source: '/a,b', target: '/c' }] }, inst),
    );
  });

  it('execs with its own FIFO dir', () => {
    assert.deepEqual(ctrExecArgs('agn', 'e1', ['sh', '-c', 'id'], '/c/fifo'), [
      'tasks',
      'exec',
      '--exec-id',
      'e1',
      '--fifo-dir',
      '/c/fifo',
      'agn',
      'sh',
      '-c',
      'id',
    ]);
  });
});

describe('mounts under a directory', () => {
  const info = [
    '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
    '90 22 0:50 / /tmp/wc1/state/io.containerd.runtime.v2.task/k8s.io/p1/rootfs rw - overlay overlay rw',
    '91 22 0:51 / /tmp/wc10/x rw - tmpfs tmpfs rw',
    '92 22 0:52 / /tmp/wc1/with\\040space rw - tmpfs tmpfs rw',
    '93 90 0:53 / /tmp/wc1/state/io.containerd.runtime.v2.task/k8s.io/p1/rootfs/proc rw - proc proc rw',
  ].join('\n');

  it('lists only those below it, latest first, with octal escapes decoded', () => {
    assert.deepEqual(mountsUnder(info, '/tmp/wc1'), [
      '/tmp/wc1/state/io.containerd.runtime.v2.task/k8s.io/p1/rootfs/proc',
      '/tmp/wc1/with space',
      '/tmp/wc1/state/io.containerd.runtime.v2.task/k8s.io/p1/rootfs',
    ]);
  });
});
