import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ManifestError, parseAgentDaemonSet } from './daemonset-spec.js';
import { hostPathOf, type NodeBinding, planPodmanRun, SERVICE_ACCOUNT_MOUNT } from './podman-args.js';

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const SHIPPED = readFileSync(join(REPO, 'manifests/10-agent-daemonset.yaml'), 'utf8');

const binding: NodeBinding = {
  nodeName: 'node1',
  nodeIP: '172.28.1.11',
  containerName: 'weft-agent-node1',
  netnsPath: '/run/netns/wcx-node1',
  hostPaths: {
    '/opt/cni/bin': '/n1/opt/cni/bin',
    '/etc/cni/net.d': '/n1/etc/cni/net.d',
    '/run/weft': '/n1/run',
    '/var/lib/weft': '/n1/var/lib',
    '/var/run/netns': '/run/netns',
    '/run/xtables.lock': '/n1/xtables.lock',
  },
  configMapDirs: { 'weft-config': '/n1/volumes/cm' },
  secretDirs: { 'weft-gossip-key': '/n1/volumes/key' },
  serviceAccountDir: '/n1/volumes/sa',
  apiServer: { host: '172.28.1.2', port: '6443' },
};

/** Values of a repeated flag in an argv. */
function flagValues(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1] as string] : []));
}

describe('agent DaemonSet → podman run', () => {
  const spec = parseAgentDaemonSet(SHIPPED);

  it('reads the shipped manifest: image, command, privileged root, hostNetwork, probes', () => {
    assert.equal(spec.image, 'ghcr.io/weft-net/weft:0.1.0');
    assert.deepEqual(spec.command, ['weft-agent']);
    assert.equal(spec.privileged, true);
    assert.equal(spec.runAsUser, 0);
    assert.equal(spec.hostNetwork, true);
    assert.equal(spec.serviceAccountName, 'weft-agent');
    assert.equal(spec.namespace, 'weft-system');
    assert.deepEqual(
      spec.readiness && [spec.readiness.path, spec.readiness.port, spec.readiness.periodSeconds],
      ['/readyz', 9742, 5],
    );
    assert.equal(spec.liveness?.failureThreshold, 6);
    assert.equal(spec.liveness?.timeoutSeconds, 1, 'kubelet default');
  });

  it('maps every declared mount, read-only for ConfigMap/Secret, rslave for HostToContainer', () => {
    const args = planPodmanRun(spec, binding);
    const volumes = flagValues(args, '--volume');
    assert.equal(volumes.length, spec.mounts.length + 1, 'each mount plus the ServiceAccount token');
    assert.ok(volumes.includes('/n1/opt/cni/bin:/host/opt/cni/bin'));
    assert.ok(volumes.includes('/run/netns:/var/run/netns:rslave'));
    assert.ok(volumes.includes('/n1/volumes/cm/net-conf.json:/etc/weft/net-conf.json:ro'), 'subPath');
    assert.ok(volumes.includes('/n1/volumes/key:/etc/weft/gossip:ro'));
    assert.ok(volumes.includes(`/n1/volumes/sa:${SERVICE_ACCOUNT_MOUNT}:ro`));
  });

  it('sets the downward-API and in-cluster env, security context and the node netns', () => {
    const args = planPodmanRun(spec, binding);
    const env = flagValues(args, '--env');
    assert.ok(env.includes('NODE_NAME=node1'));
    assert.ok(env.includes('POD_NAMESPACE=weft-system'));
    assert.ok(env.includes('KUBERNETES_SERVICE_HOST=172.28.1.2'));
    assert.ok(env.includes('KUBERNETES_SERVICE_PORT=6443'));
    assert.ok(env.includes('WEFT_CNI_BIN_DIR=/host/opt/cni/bin'));
    assert.deepEqual(flagValues(args, '--network'), ['ns:/run/netns/wcx-node1']);
    assert.ok(args.includes('--privileged'));
    assert.deepEqual(flagValues(args, '--user'), ['0']);
    assert.deepEqual(flagValues(args, '--entrypoint'), ['["weft-agent"]']);
    assert.equal(args.at(-1), 'ghcr.io/weft-net/weft:0.1.0');
  });

  it('leaves out mounts on request (preflight tests) and fails on an unknown hostPath', () => {
    const args = planPodmanRun(spec, { ...binding, omitMounts: ['cni-bin'] });
    assert.ok(!flagValues(args, '--volume').some((v) => v.endsWith(':/host/opt/cni/bin')));
    const { '/run/weft': _dropped, ...rest } = binding.hostPaths;
    assert.throws(
      () => planPodmanRun(spec, { ...binding, hostPaths: rest }),
      (e: unknown) => e instanceof ManifestError && /volume run: no hostPath \/run\/weft/.test(e.message),
    );
  });

  it('translates container paths to the node paths behind them', () => {
    assert.equal(hostPathOf('/run/weft/cni.sock', spec, binding), '/n1/run/cni.sock');
    assert.equal(
      hostPathOf('/host/etc/cni/net.d/10-weft.conflist', spec, binding),
      '/n1/etc/cni/net.d/10-weft.conflist',
    );
    assert.equal(hostPathOf('/usr/bin/ip', spec, binding), undefined);
  });

  it('capabilities and non-root users are passed as declared', () => {
    const yaml = SHIPPED.replace(
      /privileged: true\n(\s+)runAsUser: 0/,
      'runAsUser: 1000\n$1runAsGroup: 1000\n$1capabilities: { add: [NET_ADMIN, SYS_ADMIN], drop: [ALL] }',
    );
    const args = planPodmanRun(parseAgentDaemonSet(yaml), binding);
    assert.ok(!args.includes('--privileged'));
    assert.deepEqual(flagValues(args, '--user'), ['1000:1000']);
    assert.deepEqual(flagValues(args, '--cap-add'), ['NET_ADMIN', 'SYS_ADMIN']);
    assert.deepEqual(flagValues(args, '--cap-drop'), ['ALL']);
  });

  it('rejects manifests it cannot honour, naming the field', () => {
    assert.throws(() => parseAgentDaemonSet('kind: Deployment\n'), /kind: expected DaemonSet/);
    const noVolume = SHIPPED.replace(
      '- name: gossip-key\n          secret:',
      '- name: other\n          secret:',
    );
    assert.throws(() => parseAgentDaemonSet(noVolume), /volumeMounts\[7\]\.name: no volume named gossip-key/);
    const badRef = SHIPPED.replace('fieldPath: spec.nodeName', 'fieldPath: status.phase');
    assert.throws(() => planPodmanRun(parseAgentDaemonSet(badRef), binding), /fieldRef status\.phase/);
    const namedPort = SHIPPED.replace('port: 9742\n              host', 'port: http\n              host');
    assert.throws(() => parseAgentDaemonSet(namedPort), /httpGet\.port: named ports/);
  });
});
