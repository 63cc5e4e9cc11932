import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeClusterPlan, netnsPrefix, planNamespaces, podNetnsName, subnetOfNode } from './plan.js';
import { ClusterError, parseClusterSpec } from './spec.js';

describe('parseClusterSpec', () => {
  it('fills the defaults', () => {
    assert.deepEqual(parseClusterSpec({}), {
      name: 'e2e',
      nodes: 3,
      subnets: 2,
      allocateNodeCidrs: true,
      kubelet: false,
      ipFamily: 'ipv4',
      runRoot: '/tmp/weft-e2e',
      adminPort: 0,
    });
  });
  const bad: Array<[string, object]> = [
    ['spec.name', { name: 'Demo' }],
    ['spec.name', { name: 'averyverylongname' }],
    ['spec.name', { name: 'a-b' }],
    ['spec.nodes', { nodes: 0 }],
    ['spec.nodes', { nodes: 2.5 }],
    ['spec.subnets', { subnets: 3 }],
    ['spec.runRoot', { runRoot: 'relative/dir' }],
    ['spec.adminPort', { adminPort: 70000 }],
    ['spec.ipFamily', { ipFamily: 'ipv6' }],
  ];
  for (const [field, input] of bad) {
    it(`rejects ${JSON.stringify(input)} naming ${field}`, () => {
      assert.throws(
        () => parseClusterSpec(input),
        (err: unknown) =>
          err instanceof ClusterError && err.code === 'EBADSPEC' && err.message.startsWith(field),
      );
    });
  }
});

describe('computeClusterPlan', () => {
  it('puts nodes 1-2 on subnet A and node 3 on subnet B by default', () => {
    const plan = computeClusterPlan(parseClusterSpec({ name: 'demo' }));
    assert.deepEqual(
      plan.nodes.map((n) => [n.name, n.netns, n.ip, n.subnet, n.gateway, n.bridge]),
      [
        ['demo-node1', 'wcdemo-node1', '172.28.1.11', '172.28.1.0/24', '172.28.1.1', 'bra'],
        ['demo-node2', 'wcdemo-node2', '172.28.1.12', '172.28.1.0/24', '172.28.1.1', 'bra'],
        ['demo-node3', 'wcdemo-node3', '172.28.2.13', '172.28.2.0/24', '172.28.2.1', 'brb'],
      ],
    );
    assert.equal(plan.apiServerURL, 'https://172.28.1.2:6443');
    assert.equal(plan.runDir, '/tmp/weft-e2e/demo');
    assert.equal(plan.nodes[0]?.dirs.cniBin, '/tmp/weft-e2e/demo/nodes/demo-node1/opt/cni/bin');
  });

  it('keeps every node on subnet A with one subnet', () => {
    const plan = computeClusterPlan(parseClusterSpec({ name: 'one', nodes: 4, subnets: 1 }));
    assert.deepEqual(new Set(plan.nodes.map((n) => n.subnet)), new Set(['172.28.1.0/24']));
    assert.equal(plan.subnets.length, 1);
  });

  it('gives distinct addresses, dirs and short interface names for the largest cluster', () => {
    const plan = computeClusterPlan(parseClusterSpec({ name: 'abcdefghij', nodes: 40 }));
    assert.equal(new Set(plan.nodes.map((n) => n.ip)).size, 40);
    assert.equal(new Set(plan.nodes.map((n) => n.dirs.root)).size, 40);
    for (const n of plan.nodes) {
      assert.ok(n.routerPort.length <= 15 && n.iface.length <= 15, n.routerPort);
      assert.ok(n.netns.startsWith(netnsPrefix('abcdefghij')));
    }
  });

  it('lists the router first and every namespace under the prefix', () => {
    const plan = computeClusterPlan(parseClusterSpec({ name: 'x', nodes: 2 }));
    assert.deepEqual(planNamespaces(plan), ['wcx-rt', 'wcx-cp', 'wcx-ext', 'wcx-node1', 'wcx-node2']);
  });

  it('splits an odd node count with the extra node on subnet A', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((i) => subnetOfNode(i, 5, 2).bridge),
      ['bra', 'bra', 'bra', 'brb', 'brb'],
    );
  });
});

describe('podNetnsName', () => {
  it('keeps pods under the cluster prefix and rejects unsafe ids', () => {
    assert.equal(podNetnsName({ netns: 'wcdemo-node1' }, 'web-1'), 'wcdemo-node1-web-1');
    assert.ok(podNetnsName({ netns: 'wcdemo-node1' }, 'x').startsWith(netnsPrefix('demo')));
    assert.throws(() => podNetnsName({ netns: 'wcdemo-node1' }, '../etc'), /podId/);
  });
});
