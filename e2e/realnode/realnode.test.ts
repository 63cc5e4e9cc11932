import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { computeClusterPlan } from '../cluster/plan.js';
import { repoRoot } from '../cluster/prereq.js';
import { parseClusterSpec } from '../cluster/spec.js';
import { renderContainerdConfig } from '../images/containerd-config.js';
import { coreDnsManifest, netConfWith, renderWeftOverlay } from './addons.js';
import { parseCgroupMounts } from './cgroups.js';
import {
  acquireKubeletTunables,
  KUBELET_TUNABLES,
  releaseKubeletTunables,
  type TunablesIo,
} from './kernel-tunables.js';
import { renderKubeProxyConfig } from './kube-proxy.js';
import { clusterDnsIp, kubeletCgroupRoot, renderKubeletConfig } from './kubelet.js';
import { nodeContainerdPaths } from './node-runtime.js';
import { computeNodeView, holderArgv, inNodeArgv, nodeViewScript } from './node-view.js';
import { realNodeTokenUsers } from './users.js';

describe('real node view', () => {
  const v = computeNodeView('/tmp/weft-e2e/x/nodes/x-node1');

  it('overlays /etc, /opt and /var, binds /run and the runtime dirs, and shares mounts only inside', () => {
    const s = nodeViewScript(v);
    for (const t of ['/etc', '/opt', '/var']) {
      assert.match(
        s,
        new RegExp(`lowerdir=${t},upperdir=/tmp/weft-e2e/x/nodes/x-node1/fs/${t.slice(1)}.upper`),
      );
    }
    assert.match(s, /mount --bind '\/tmp\/weft-e2e\/x\/nodes\/x-node1\/run' \/run/);
    assert.match(s, /mount --bind '[^']*\/containerd' \/var\/lib\/containerd/);
    assert.match(s, /mount --bind '[^']*\/cni\/net.d' \/etc\/cni\/net.d/);
    assert.ok(s.indexOf('--make-rshared') > s.lastIndexOf('mount --bind'), 'rshared after every bind');
    assert.ok(s.trimEnd().endsWith('exec sleep infinity'));
    const argv = holderArgv('wcx-node1', v, 'x-node1');
    assert.deepEqual(argv.slice(0, 9), [
      'nsenter',
      '--net=/run/netns/wcx-node1',
      '--',
      'unshare',
      '--mount',
      '--uts',
      '--propagation',
      'private',
      '--',
    ]);
    // Its own hostname first, as a real node's: hostNetwork pods report it.
    assert.equal(argv.at(-1)?.split('\n')[1], "hostname 'x-node1'");
    assert.deepEqual(inNodeArgv(42, ['kubelet', '-v']), [
      'nsenter',
      '-t',
      '42',
      '-m',
      '-u',
      '-n',
      '--',
      'kubelet',
      '-v',
    ]);
  });

  it('maps node paths to the machine paths of its own layers, and refuses others', () => {
    assert.equal(v.hostPath('/etc/cni/net.d'), '/tmp/weft-e2e/x/nodes/x-node1/cni/net.d');
    assert.equal(v.hostPath('/etc/kubernetes'), '/tmp/weft-e2e/x/nodes/x-node1/fs/etc.upper/kubernetes');
    assert.equal(v.hostPath('/run/weft'), '/tmp/weft-e2e/x/nodes/x-node1/run/weft');
    assert.throws(() => v.hostPath('/usr/bin'), /not inside the node's own layers/);
    assert.throws(() => v.hostPath('/etcetera'), /not inside/);
  });

  it('a kubelet-mode plan points the node dirs at what the node sees as /opt/cni/bin, /etc/cni/net.d, /var/lib', () => {
    const plan = computeClusterPlan(parseClusterSpec({ name: 'x', nodes: 2, kubelet: true }));
    const n = plan.nodes[0];
    assert.ok(n);
    const view = computeNodeView(n.dirs.root);
    assert.equal(n.dirs.cniBin, view.hostPath('/opt/cni/bin'));
    assert.equal(n.dirs.cniConf, view.hostPath('/etc/cni/net.d'));
    assert.equal(n.dirs.state, view.hostPath('/var/lib'));
    assert.equal(n.dirs.run, view.hostPath('/run'));
  });
});

describe('node component configuration', () => {
  it('kubelet: own cgroup root, verifies (never writes) kernel tunables, no image GC, x509 + webhook auth', () => {
    const c = JSON.parse(
      renderKubeletConfig({
        name: 'x-node1',
        ip: '172.28.1.11',
        cgroupRoot: kubeletCgroupRoot('x', 1),
        clientCaFile: '/pki/ca.crt',
        resolvConf: '/r',
        maxPods: 150,
      }),
    );
    assert.equal(c.cgroupRoot, '/weft-x-node1');
    assert.equal(c.cgroupDriver, 'cgroupfs');
    assert.equal(c.protectKernelDefaults, true);
    assert.equal(c.imageGCHighThresholdPercent, 100);
    assert.equal(c.address, '172.28.1.11');
    assert.equal(c.authentication.anonymous.enabled, false);
    assert.equal(c.authentication.x509.clientCAFile, '/pki/ca.crt');
    assert.equal(c.authorization.mode, 'Webhook');
    assert.deepEqual(c.clusterDNS, ['10.96.0.10']);
  });

  it('IPv6-only: kubelet and the kube-dns Service on fd00:10:96::a', () => {
    assert.equal(clusterDnsIp('ipv6'), 'fd00:10:96::a');
    assert.equal(clusterDnsIp('dual'), '10.96.0.10');
    const manifest = readFileSync(join(repoRoot(), 'e2e/workloads/coredns.yaml'), 'utf8');
    const six = coreDnsManifest(manifest, 'ipv6');
    assert.ok(six.includes('clusterIP: fd00:10:96::a') && !six.includes('10.96.0.10'));
    assert.equal(coreDnsManifest(manifest, 'ipv4'), manifest);
  });

  it('kube-proxy: nftables, leaves machine-wide conntrack settings alone, sets the per-namespace TCP timeouts', () => {
    const c = JSON.parse(
      renderKubeProxyConfig({
        kubeconfig: '/k',
        nodeName: 'n',
        nodeIp: '1.2.3.4',
        clusterCidr: '10.244.0.0/16',
      }),
    );
    assert.equal(c.mode, 'nftables');
    assert.equal(c.healthzBindAddress, '0.0.0.0:10256');
    assert.deepEqual(c.conntrack, {
      maxPerCore: 0,
      min: 0,
      tcpEstablishedTimeout: '24h0m0s',
      tcpCloseWaitTimeout: '1h0m0s',
    });
  });

  it('containerd: version 3, standard paths of the node, runc with cgroupfs, the local pause image, CNI from the node dirs', () => {
    const t = renderContainerdConfig(nodeContainerdPaths('/run-dir/containerd.toml'), {
      runcBinary: '/usr/sbin/runc',
      cniBinDirs: ['/opt/cni/bin'],
      cniConfDir: '/etc/cni/net.d',
    });
    assert.match(t, /^root = "\/var\/lib\/containerd"$/m);
    assert.match(t, /address = "\/run\/containerd\/containerd.sock"/);
    assert.match(t, /restrict_oom_score_adj = true/);
    assert.match(t, /^version = 3$/m);
    assert.match(t, /BinaryName = "\/usr\/sbin\/runc"/);
    assert.match(t, /SystemdCgroup = false/);
    assert.match(t, /sandbox = "registry.k8s.io\/pause:3.10"/);
    assert.match(t, /bin_dirs = \["\/opt\/cni\/bin"\]/);
  });

  it('identities: one kubelet per node in system:nodes, kube-proxy and scheduler', () => {
    const plan = computeClusterPlan(parseClusterSpec({ name: 'x', nodes: 2, kubelet: true }));
    assert.deepEqual(realNodeTokenUsers(plan), [
      { user: 'system:node:x-node1', groups: ['system:nodes'] },
      { user: 'system:node:x-node2', groups: ['system:nodes'] },
      { user: 'system:kube-proxy', groups: [] },
      { user: 'system:kube-scheduler', groups: [] },
    ]);
  });

  it('overlay: the shipped manifests with only the image changed', () => {
    const k = JSON.parse(
      renderWeftOverlay('/run/x/weft-overlay', '/repo/manifests', { name: 'localhost/weft', tag: 'dev' }),
    );
    assert.deepEqual(k.resources, ['../../../repo/manifests']);
    assert.deepEqual(k.images, [{ name: 'ghcr.io/weft-net/weft', newName: 'localhost/weft', newTag: 'dev' }]);
    assert.equal(k.patches, undefined);
  });

  it('overlay with a backend: only net-conf.json backend.type changes, by a ConfigMap patch', () => {
    const shipped = readFileSync(join(repoRoot(), 'manifests', '03-config.yaml'), 'utf8');
    const conf = JSON.parse(netConfWith(shipped, { backend: 'vxlan' }));
    assert.deepEqual(conf.backend, { type: 'vxlan', vni: 1, port: 8472 });
    assert.deepEqual(JSON.parse(netConfWith(shipped, { backend: 'wireguard' })).backend, {
      type: 'wireguard',
    });
    assert.deepEqual(conf.clusterCIDRs, ['10.244.0.0/16']);
    const dual = JSON.parse(netConfWith(shipped, { clusterCIDRs: ['10.244.0.0/16', 'fd00:10:244::/56'] }));
    assert.deepEqual([dual.clusterCIDRs, dual.backend.type], [['10.244.0.0/16', 'fd00:10:244::/56'], 'auto']);
    const k = JSON.parse(renderWeftOverlay('/o', '/m', { name: 'w', tag: 't' }, JSON.stringify(conf)));
    const patch = JSON.parse(k.patches[0].patch);
    assert.deepEqual(patch.metadata, { name: 'weft-config', namespace: 'weft-system' });
    assert.equal(JSON.parse(patch.data['net-conf.json']).backend.type, 'vxlan');
  });

  it('finds every cgroup hierarchy in /proc/mounts', () => {
    const mounts = [
      'tmpfs /sys/fs/cgroup tmpfs rw 0 0',
      'cgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0',
      'cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0',
      'cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0',
      '/dev/vda / ext4 rw 0 0',
    ].join('\n');
    assert.deepEqual(parseCgroupMounts(mounts), [
      '/sys/fs/cgroup/cpu',
      '/sys/fs/cgroup/memory',
      '/sys/fs/cgroup/unified',
    ]);
  });
});

describe('kubelet kernel tunables', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-tunables-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const fake = (values: Record<string, string>): TunablesIo & { values: Record<string, string> } => ({
    values,
    read: (k) => values[k] ?? '',
    write: (k, v) => {
      values[k] = v;
    },
  });

  it('sets kubelet values, and the last holder restores the machine values recorded by the first', () => {
    const file = join(dir, 'record.json');
    const io = fake({ 'vm.overcommit_memory': '0', 'kernel.panic': '1', 'kernel.panic_on_oops': '0' });
    acquireKubeletTunables('a', io, file);
    assert.deepEqual(io.values, { ...KUBELET_TUNABLES });
    acquireKubeletTunables('b', io, file); // values already kubelet's: the record keeps the machine's
    releaseKubeletTunables('a', io, file);
    assert.deepEqual(io.values, { ...KUBELET_TUNABLES }, 'b still holds them');
    releaseKubeletTunables('b', io, file);
    assert.deepEqual(io.values, {
      'vm.overcommit_memory': '0',
      'kernel.panic': '1',
      'kernel.panic_on_oops': '0',
    });
    releaseKubeletTunables('b', io, file); // idempotent without a record
    assert.deepEqual(io.values, {
      'vm.overcommit_memory': '0',
      'kernel.panic': '1',
      'kernel.panic_on_oops': '0',
    });
  });
});
