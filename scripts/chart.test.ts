/**
 * charts/weft: lint, render with defaults and with every value changed (charts/weft/ci/), and
 * manifests/ equal to the default rendering. Needs helm (e2e/helm/build.sh; scripts/test.sh
 * builds it first): without it these tests fail, they do not skip.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseNetConf } from '../agent/src/config/net-conf.js';
import { parseControllerNetConf } from '../controller/src/net-conf.js';
import { repoRoot } from '../e2e/cluster/prereq.js';
import { CHART_DIR, chartMetadata, helmTemplate, renderedObjects, splitBySource } from '../e2e/helm/chart.js';
import { runHelm } from '../e2e/helm/helm.js';
import { chartImageValues } from '../e2e/realnode/addons.js';
import { currentManifests, expectedManifests } from './manifests-from-chart.js';

// biome-ignore lint/suspicious/noExplicitAny: rendered Kubernetes objects, read by path in assertions
type Obj = Record<string, any>;
const CUSTOM = 'charts/weft/ci/custom-values.yaml';
const ENCRYPTION = 'charts/weft/ci/encryption-values.yaml';
const root = repoRoot();

function byKindName(objects: Obj[], kind: string, name: string): Obj {
  const o = objects.find((x) => x.kind === kind && x.metadata?.name === name);
  assert.ok(o, `no ${kind}/${name} rendered`);
  return o;
}
const container = (o: Obj): Obj => o.spec.template.spec.containers[0];
const env = (c: Obj, name: string): unknown => c.env.find((e: Obj) => e.name === name)?.value;
/** The chart's objects rendered with `--set` for each entry. */
const rendered = async (set: string[]): Promise<Obj[]> =>
  renderedObjects(await helmTemplate({ set })) as Obj[];
const netConfText = (objects: Obj[]): string =>
  byKindName(objects, 'ConfigMap', 'weft-config').data['net-conf.json'];

describe('charts/weft', () => {
  it('passes helm lint --strict, with defaults and with every value changed', async () => {
    await runHelm(['lint', '--strict', join(root, CHART_DIR)]);
    await runHelm(['lint', '--strict', join(root, CHART_DIR), '--values', join(root, CUSTOM)]);
    await runHelm(['lint', '--strict', join(root, CHART_DIR), '--values', join(root, ENCRYPTION)]);
  });

  it('manifests/ is exactly the chart rendered with its defaults (regenerate: node dist/scripts/manifests-from-chart.js --write)', async () => {
    const expected = await expectedManifests();
    const current = currentManifests(root);
    assert.deepEqual([...current.keys()].sort(), [...expected.keys()].sort());
    for (const [file, text] of expected) assert.equal(current.get(file), text, `manifests/${file} drifted`);
  });

  it('renders with defaults the objects of manifests/ and no ServiceMonitor or dashboard', async () => {
    const objects = renderedObjects(await helmTemplate()) as Obj[];
    assert.deepEqual(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort(), [
      'ClusterRole/weft-agent',
      'ClusterRole/weft-controller',
      'ClusterRoleBinding/weft-agent',
      'ClusterRoleBinding/weft-controller',
      'ConfigMap/weft-config',
      'DaemonSet/weft-agent',
      'Deployment/weft-controller',
      'Namespace/weft-system',
      'Role/weft-controller',
      'RoleBinding/weft-controller',
      'ServiceAccount/weft-agent',
      'ServiceAccount/weft-controller',
    ]);
    const text = netConfText(objects);
    const conf = parseNetConf(text);
    assert.deepEqual(conf.clusterCIDRs, ['10.244.0.0/16']);
    assert.equal(conf.mtu, undefined, 'no mtu by default: derived from the node');
    assert.equal(conf.encryption, 'none');
    assert.equal(JSON.parse(text).encryption, undefined, 'no encryption key unless enabled');
    const ports = container(byKindName(objects, 'DaemonSet', 'weft-agent')).ports.map((p: Obj) => p.name);
    assert.deepEqual(ports, ['http', 'gossip'], 'no WireGuard port without WireGuard');
  });

  it('carries every non-default value into the objects', async () => {
    const objects = renderedObjects(await helmTemplate({ valuesFiles: [CUSTOM] })) as Obj[];
    assert.ok(!objects.some((o) => o.kind === 'Namespace'), 'namespace.create=false renders no Namespace');
    const ds = byKindName(objects, 'DaemonSet', 'weft-agent');
    const deploy = byKindName(objects, 'Deployment', 'weft-controller');
    for (const c of [container(ds), container(deploy)]) {
      assert.equal(c.image, 'registry.example.com/net/weft:0.1.0-rc.1');
      assert.equal(c.imagePullPolicy, 'Always');
    }

    const text = netConfText(objects);
    const conf = parseNetConf(text);
    assert.deepEqual(conf, {
      clusterCIDRs: ['10.42.0.0/16', '10.43.0.0/16'],
      backend: 'vxlan',
      vxlanVNI: 4097,
      vxlanPort: 4789,
      encryption: 'none',
      wireguardPort: 51820,
      mtu: 1400,
      masquerade: false,
      nonMasqueradeCIDRs: ['192.168.0.0/16'],
      resyncSeconds: 10,
      networkPolicy: false,
    });
    assert.equal(parseControllerNetConf(text).nodeCidrMaskSize, 25);
    assert.equal(parseControllerNetConf(text).nodeCidrMaskSizeIpv6, 80);

    const agent = container(ds);
    assert.equal(env(agent, 'WEFT_HTTP_ADDR'), '0.0.0.0:19742');
    assert.equal(env(agent, 'WEFT_GOSSIP_PORT'), '19743');
    assert.deepEqual(
      agent.ports.map((p: Obj) => p.containerPort),
      [19742, 19743],
    );
    assert.equal(agent.livenessProbe.httpGet.port, 19742);
    assert.equal(agent.readinessProbe.httpGet.port, 19742);
    assert.equal(ds.spec.template.metadata.annotations['prometheus.io/port'], '19742');
    assert.deepEqual(agent.resources, {
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { memory: '512Mi' },
    });
    assert.deepEqual(ds.spec.template.spec.tolerations, [
      { key: 'dedicated', operator: 'Equal', value: 'network', effect: 'NoSchedule' },
    ]);
    assert.deepEqual(ds.spec.template.spec.nodeSelector, { 'kubernetes.io/os': 'linux' });

    const controller = container(deploy);
    assert.equal(env(controller, 'WEFT_HTTP_ADDR'), '0.0.0.0:19744');
    assert.equal(controller.ports[0].containerPort, 19744);
    assert.equal(controller.livenessProbe.httpGet.port, 19744);
    assert.equal(deploy.spec.template.metadata.annotations['prometheus.io/port'], '19744');
    assert.deepEqual(controller.resources, {
      requests: { cpu: '20m', memory: '80Mi' },
      limits: { memory: '256Mi' },
    });
    assert.deepEqual(deploy.spec.template.spec.tolerations, [{ operator: 'Exists' }]);
    assert.deepEqual(deploy.spec.template.spec.nodeSelector, { 'node-role.kubernetes.io/control-plane': '' });
  });

  it('renders backend wireguard: no VXLAN fields, encryption.port as its port, a UDP port on the agent', async () => {
    const objects = renderedObjects(
      await helmTemplate({ set: ['network.backend.type=wireguard', 'network.encryption.port=51822'] }),
    ) as Obj[];
    const text = netConfText(objects);
    assert.deepEqual(JSON.parse(text).backend, { type: 'wireguard', port: 51822 });
    const conf = parseNetConf(text);
    assert.equal(conf.backend, 'wireguard');
    assert.equal(conf.encryption, 'all');
    assert.equal(conf.wireguardPort, 51822);
    const ports = container(byKindName(objects, 'DaemonSet', 'weft-agent')).ports;
    assert.deepEqual(ports.at(-1), { name: 'wireguard', containerPort: 51822, protocol: 'UDP' });
  });

  it('renders encryption with backend auto (charts/weft/ci/encryption-values.yaml: crossSubnet, port 51821)', async () => {
    const objects = renderedObjects(await helmTemplate({ valuesFiles: [ENCRYPTION] })) as Obj[];
    const text = netConfText(objects);
    assert.deepEqual(JSON.parse(text).encryption, { type: 'wireguard', peers: 'crossSubnet', port: 51821 });
    const conf = parseNetConf(text);
    assert.equal(conf.backend, 'auto');
    assert.equal(conf.encryption, 'crossSubnet');
    assert.equal(conf.wireguardPort, 51821);
    assert.equal(conf.vxlanPort, 8472, 'VXLAN stays as it is');
    const ds = byKindName(objects, 'DaemonSet', 'weft-agent');
    assert.deepEqual(container(ds).ports.at(-1), {
      name: 'wireguard',
      containerPort: 51821,
      protocol: 'UDP',
    });
    // The agent reads the change only when restarted: the pods' checksum must change with it.
    const defaults = byKindName(renderedObjects(await helmTemplate()) as Obj[], 'DaemonSet', 'weft-agent');
    const checksum = (o: Obj) => o.spec.template.metadata.annotations['checksum/net-conf'];
    assert.notEqual(checksum(ds), checksum(defaults));
  });

  it('the real-node e2e install (image values only) differs from manifests/ in the image alone', async () => {
    const defaults = await helmTemplate();
    const e2e = await helmTemplate({ set: chartImageValues({ name: 'localhost/weft', tag: 'dev' }) });
    assert.notEqual(e2e, defaults);
    assert.equal(
      e2e.replaceAll('localhost/weft:dev', `ghcr.io/weft-net/weft:${chartMetadata(root).appVersion}`),
      defaults,
    );
  });

  it('renders ServiceMonitors and the headless Services they select when enabled', async () => {
    const objects = renderedObjects(await helmTemplate({ valuesFiles: [CUSTOM] })) as Obj[];
    for (const [name, port] of [
      ['weft-agent', 19742],
      ['weft-controller', 19744],
    ] as const) {
      const svc = byKindName(objects, 'Service', `${name}-metrics`);
      assert.equal(svc.spec.clusterIP, 'None');
      assert.deepEqual(svc.spec.selector, { 'app.kubernetes.io/name': name });
      assert.deepEqual(svc.spec.ports, [{ name: 'http', port, targetPort: 'http' }]);
      const sm = byKindName(objects, 'ServiceMonitor', name);
      assert.equal(sm.apiVersion, 'monitoring.coreos.com/v1');
      assert.equal(sm.metadata.labels.release, 'prometheus');
      assert.deepEqual(sm.spec.selector.matchLabels, { 'app.kubernetes.io/name': name });
      assert.equal(svc.metadata.labels['app.kubernetes.io/name'], name);
      assert.equal(sm.spec.endpoints[0].port, 'http');
      assert.equal(sm.spec.endpoints[0].interval, '15s');
      // The Service's selector must match the pods it names.
      const pods = byKindName(objects, name === 'weft-agent' ? 'DaemonSet' : 'Deployment', name);
      assert.equal(pods.spec.template.metadata.labels['app.kubernetes.io/name'], name);
    }
  });

  it('ships the Grafana dashboard as a ConfigMap with the sidecar label when enabled', async () => {
    const objects = renderedObjects(await helmTemplate({ valuesFiles: [CUSTOM] })) as Obj[];
    const cm = byKindName(objects, 'ConfigMap', 'weft-dashboard');
    assert.equal(cm.metadata.labels.grafana_dashboard, '1');
    assert.equal(cm.metadata.labels.team, 'network');
    const shipped = readFileSync(join(root, CHART_DIR, 'dashboards/weft.json'), 'utf8');
    assert.deepEqual(JSON.parse(cm.data['weft.json']), JSON.parse(shipped));
  });

  it('rejects values the agent would refuse, naming them (values.schema.json)', async () => {
    for (const [set, field] of [
      ['network.backend.type=geneve', '/network/backend/type'],
      ['network.mtu=100', '/network/mtu'],
      ['network.encryption.peers=everyone', '/network/encryption/peers'],
      ['network.encryption.port=70000', '/network/encryption/port'],
      // encryption only with backend auto (vxlan/hostgw fix the route kind, wireguard already encrypts)
      ['network.encryption.enabled=true,network.backend.type=vxlan', '/network/backend/type'],
      ['network.encryption.enabled=true,network.backend.type=wireguard', '/network/backend/type'],
      ['network.clusterCIDRs={10.0.0.0}', '/network/clusterCIDRs/0'],
      // dual-stack: one CIDR per family; IPv6-only: one IPv6 CIDR
      ['network.clusterCIDRs={fd00:10::/48,fd01::/48}', "'/network/clusterCIDRs': maxItems"],
      ['network.clusterCIDRs={10.244.0.0/16,fd00:10::/48,fd01::/48}', "'/network/clusterCIDRs': maxItems"],
      ['network.clusterCIDRs={10.244.0.0/16,fd00:10::/48,10.1.0.0/16}', "'/network/clusterCIDRs': maxItems"],
      ['network.clusterCIDRs={10.244.0.0/16,fd00:zz::/48}', '/network/clusterCIDRs/1'],
      ['network.nonMasqueradeCIDRs={fd00::1}', '/network/nonMasqueradeCIDRs/0'],
      ['network.nodeCIDRMaskSizeIPv6=127', '/network/nodeCIDRMaskSizeIPv6'],
      ['network.nodeCIDRMaskSize=31', '/network/nodeCIDRMaskSize'],
      ['agent.metricsPort=0', '/agent/metricsPort'],
      ['agent.replicas=2', 'replicas'],
    ] as const) {
      await assert.rejects(helmTemplate({ set: [set] }), (err: Error) => err.message.includes(field), set);
    }
  });

  it('renders a dual-stack net-conf that the agent and the controller accept; by default no IPv6 size', async () => {
    const text = netConfText(
      await rendered([
        'network.clusterCIDRs={fd00:10::/56,10.244.0.0/16}',
        'network.nodeCIDRMaskSizeIPv6=64',
      ]),
    );
    assert.deepEqual(JSON.parse(text).clusterCIDRs, ['fd00:10::/56', '10.244.0.0/16']);
    assert.deepEqual(parseNetConf(text).clusterCIDRs, ['10.244.0.0/16', 'fd00:10::/56'], 'IPv4 first');
    const controller = parseControllerNetConf(text);
    assert.equal(controller.nodeCidrMaskSizeIpv6, 64);
    assert.equal(controller.clusterCidrs.length, 2);
    const defaults = netConfText(renderedObjects(await helmTemplate()) as Obj[]);
    assert.equal(JSON.parse(defaults).nodeCIDRMaskSizeIPv6, undefined);
  });

  it('renders an IPv6-only net-conf that the agent and the controller accept; HTTP on [::]', async () => {
    const objects = await rendered([
      'network.clusterCIDRs={fd00:10:244::/56}',
      'network.nonMasqueradeCIDRs={fd00::/8}',
    ]);
    const text = netConfText(objects);
    assert.deepEqual(parseNetConf(text).clusterCIDRs, ['fd00:10:244::/56']);
    assert.deepEqual(parseNetConf(text).nonMasqueradeCIDRs, ['fd00::/8']);
    assert.deepEqual(
      parseControllerNetConf(text).clusterCidrs.map((c) => c.family),
      [6],
    );
    // YAML would read an unquoted [::]:9742 as a list; the agent and the controller parse brackets.
    assert.equal(
      env(container(byKindName(objects, 'DaemonSet', 'weft-agent')), 'WEFT_HTTP_ADDR'),
      '[::]:9742',
    );
    const controller = container(byKindName(objects, 'Deployment', 'weft-controller'));
    assert.equal(env(controller, 'WEFT_HTTP_ADDR'), '[::]:9744');
  });

  it('splits helm output by template, keeping each template’s documents in order', () => {
    const out = splitBySource(
      '---\n# Source: weft/templates/a.yaml\nkind: A\n---\n# Source: weft/templates/b.yaml\nkind: B\n---\n# Source: weft/templates/a.yaml\nkind: A2\n',
    );
    assert.deepEqual(
      [...out.entries()],
      [
        ['a.yaml', ['kind: A', 'kind: A2']],
        ['b.yaml', ['kind: B']],
      ],
    );
    assert.throws(() => splitBySource('kind: Orphan\n'), /Source/);
  });
});
