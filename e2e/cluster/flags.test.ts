import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ComponentContext, componentCommand } from './control-plane.js';
import {
  apiServerArgs,
  computeControlPlaneFiles,
  controllerManagerArgs,
  desiredControllers,
  etcdArgs,
  loopbackApiServerURL,
  schedulerArgs,
} from './flags.js';
import { renderKubeconfig, tokenFileLine } from './kubeconfig.js';
import { servingCertIps, servingCertSans } from './pki.js';
import { computeClusterPlan } from './plan.js';
import { parseClusterSpec } from './spec.js';

const plan = computeClusterPlan(parseClusterSpec({ name: 'demo' }));
const files = computeControlPlaneFiles(plan.runDir);

function flag(args: string[], name: string): string | undefined {
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

function componentContext(): ComponentContext {
  return {
    plan,
    files,
    binDir: '/bin/k8s',
    allocateNodeCidrs: true,
    kubelet: false,
    adminPort: 0,
    nodeExecPath: '/node',
    forwarderScript: '/fwd.js',
  };
}

describe('control-plane flags', () => {
  it('keeps etcd on loopback inside the control-plane namespace', () => {
    const args = etcdArgs(files);
    assert.equal(flag(args, 'listen-client-urls'), 'http://127.0.0.1:2379');
    assert.equal(flag(args, 'data-dir'), '/tmp/weft-e2e/demo/etcd');
  });

  it('runs the API server with RBAC+Node authorization, SA signing and the token file', () => {
    const args = apiServerArgs(plan, files);
    assert.equal(flag(args, 'authorization-mode'), 'Node,RBAC');
    assert.equal(flag(args, 'advertise-address'), '172.28.1.2');
    assert.equal(flag(args, 'service-account-signing-key-file'), files.saKey);
    assert.equal(flag(args, 'service-account-key-file'), files.saPub);
    assert.equal(flag(args, 'token-auth-file'), files.tokenFile);
    assert.equal(flag(args, 'anonymous-auth'), 'false');
  });

  it('enables node IPAM with /24s from 10.244.0.0/16 only when asked', () => {
    const on = controllerManagerArgs(files, true);
    assert.equal(flag(on, 'allocate-node-cidrs'), 'true');
    assert.equal(flag(on, 'cluster-cidr'), '10.244.0.0/16');
    assert.equal(flag(on, 'node-cidr-mask-size'), '24');
    assert.equal(flag(on, 'leader-elect'), 'false');
    assert.ok(flag(on, 'controllers')?.split(',').includes('node-ipam-controller'));
    const off = controllerManagerArgs(files, false);
    assert.equal(flag(off, 'allocate-node-cidrs'), 'false');
    assert.ok(!flag(off, 'controllers')?.split(',').includes('node-ipam-controller'));
    assert.ok(desiredControllers(false).includes('namespace-controller'));
  });

  it('dual-stack: service and cluster CIDRs of both families, IPv4 first, with per-family podCIDR sizes', () => {
    const dual = computeClusterPlan(parseClusterSpec({ name: 'ds', ipFamily: 'dual' }));
    assert.equal(
      flag(apiServerArgs(dual, files), 'service-cluster-ip-range'),
      '10.96.0.0/16,fd00:10:96::/112',
    );
    assert.equal(flag(apiServerArgs(plan, files), 'service-cluster-ip-range'), '10.96.0.0/16');
    const kcm = controllerManagerArgs(files, true, false, 'dual');
    assert.equal(flag(kcm, 'cluster-cidr'), '10.244.0.0/16,fd00:10:244::/56');
    assert.equal(flag(kcm, 'service-cluster-ip-range'), '10.96.0.0/16,fd00:10:96::/112');
    assert.deepEqual(
      [
        flag(kcm, 'node-cidr-mask-size'),
        flag(kcm, 'node-cidr-mask-size-ipv4'),
        flag(kcm, 'node-cidr-mask-size-ipv6'),
      ],
      [undefined, '24', '64'],
    );
  });

  it('IPv6-only: etcd, the API server and the controller manager on IPv6, one IPv6 CIDR each', () => {
    const six = computeClusterPlan(parseClusterSpec({ name: 'six', ipFamily: 'ipv6' }));
    const etcd = etcdArgs(files, 'ipv6');
    assert.equal(flag(etcd, 'listen-client-urls'), 'http://[::1]:2379');
    assert.equal(flag(etcd, 'advertise-client-urls'), 'http://[::1]:2379');
    assert.equal(flag(etcd, 'initial-cluster'), 'default=http://[::1]:2380');
    const api = apiServerArgs(six, files);
    assert.equal(flag(api, 'etcd-servers'), 'http://[::1]:2379');
    assert.equal(flag(api, 'advertise-address'), 'fd00:28:1::2');
    assert.equal(flag(api, 'bind-address'), '::');
    assert.equal(flag(api, 'service-cluster-ip-range'), 'fd00:10:96::/112');
    const kcm = controllerManagerArgs(files, true, false, 'ipv6');
    assert.equal(flag(kcm, 'cluster-cidr'), 'fd00:10:244::/56');
    assert.equal(flag(kcm, 'node-cidr-mask-size'), '64');
    assert.equal(flag(kcm, 'node-cidr-mask-size-ipv6'), undefined);
    assert.equal(flag(kcm, 'service-cluster-ip-range'), 'fd00:10:96::/112');
    assert.equal(flag(schedulerArgs(files, 'ipv6'), 'bind-address'), '::1');
    assert.equal(loopbackApiServerURL('ipv6'), 'https://[::1]:6443');
    assert.equal(loopbackApiServerURL('dual'), 'https://127.0.0.1:6443');
    const ctx = { ...componentContext(), plan: six };
    assert.deepEqual(componentCommand('forwarder-cp', ctx).argv.slice(-2), ['::1', '6443']);
    assert.equal(flag(etcdArgs(files), 'listen-client-urls'), 'http://127.0.0.1:2379');
    assert.equal(flag(apiServerArgs(plan, files), 'bind-address'), '0.0.0.0');
  });

  it('runs every component but the root forwarder inside the control-plane namespace', () => {
    const ctx = componentContext();
    assert.equal(componentCommand('forwarder-root', ctx).netns, undefined);
    assert.deepEqual(componentCommand('forwarder-root', ctx).argv, [
      '/node',
      '/fwd.js',
      'tcp-to-unix',
      '0',
      files.cpSocket,
      files.adminPortFile,
    ]);
    for (const c of ['forwarder-cp', 'etcd', 'kube-apiserver', 'kube-controller-manager'] as const) {
      assert.equal(componentCommand(c, ctx).netns, 'wcdemo-cp', c);
    }
    assert.equal(componentCommand('kube-apiserver', ctx).argv[0], '/bin/k8s/kube-apiserver');
  });
});

describe('credentials', () => {
  it('covers the underlay IP, loopback and the in-cluster names in the serving cert', () => {
    const sans = servingCertSans(servingCertIps('ipv4', '172.28.1.2'));
    for (const s of ['IP:172.28.1.2', 'IP:127.0.0.1', 'IP:10.96.0.1', 'DNS:kubernetes.default.svc'])
      assert.ok(sans.includes(s), s);
    assert.deepEqual(servingCertIps('ipv6', 'fd00:28:1::2'), [
      'fd00:28:1::2',
      '127.0.0.1',
      '::1',
      'fd00:10:96::1',
    ]);
  });

  it('writes token file lines with quoted groups and refuses separators', () => {
    assert.equal(
      tokenFileLine('t0k', 'admin', ['system:masters', 'g2']),
      't0k,admin,admin,"system:masters,g2"',
    );
    assert.throws(() => tokenFileLine('a,b', 'admin', []));
  });

  it('renders a kubeconfig with the CA embedded and the token', () => {
    const doc = JSON.parse(
      renderKubeconfig({
        clusterName: 'demo',
        server: 'https://1.2.3.4:6443',
        caPem: 'PEM',
        user: 'u',
        token: 'tok',
      }),
    );
    assert.equal(doc['current-context'], 'demo');
    assert.equal(doc.clusters[0].cluster.server, 'https://1.2.3.4:6443');
    assert.equal(
      Buffer.from(doc.clusters[0].cluster['certificate-authority-data'], 'base64').toString(),
      'PEM',
    );
    assert.equal(doc.users[0].user.token, 'tok');
  });
});
