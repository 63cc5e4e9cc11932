import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  clusterCidrs,
  computeClusterPlan,
  ipFamilyOfNode,
  type NodePlan,
  netnsPrefix,
  nodeIps,
  planNamespaces,
  podNetnsName,
  serviceCidrs,
  subnetOfNode,
} from './plan.js';
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
    ['spec.ipFamily', { ipFamily: 'ipv5' }],
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

describe('computeClusterPlan, IPv6-only', () => {
  const plan = computeClusterPlan(parseClusterSpec({ name: 'six', ipFamily: 'ipv6' }));

  it('gives every node only IPv6 underlay addresses on the same bridges (ip = ip6, the primary address)', () => {
    assert.deepEqual(
      plan.nodes.map((n) => [n.ip, n.subnet, n.gateway, n.ip6, n.gateway6, n.bridge]),
      [
        ['fd00:28:1::11', 'fd00:28:1::/64', 'fd00:28:1::1', 'fd00:28:1::11', 'fd00:28:1::1', 'bra'],
        ['fd00:28:1::12', 'fd00:28:1::/64', 'fd00:28:1::1', 'fd00:28:1::12', 'fd00:28:1::1', 'bra'],
        ['fd00:28:2::13', 'fd00:28:2::/64', 'fd00:28:2::1', 'fd00:28:2::13', 'fd00:28:2::1', 'brb'],
      ],
    );
    assert.deepEqual(
      plan.subnets.map((s) => [s.cidr, s.bridge]),
      [
        ['fd00:28:1::/64', 'bra'],
        ['fd00:28:2::/64', 'brb'],
      ],
    );
    assert.deepEqual(plan.nodes.map(nodeIps), [['fd00:28:1::11'], ['fd00:28:1::12'], ['fd00:28:2::13']]);
    assert.deepEqual(plan.nodes.map(ipFamilyOfNode), ['ipv6', 'ipv6', 'ipv6']);
  });

  it('puts the control plane and the external host on IPv6; the API server URL in brackets', () => {
    assert.equal(plan.controlPlane.ip, 'fd00:28:1::2');
    assert.equal(plan.external.ip, '2001:db8:113::2');
    assert.equal(plan.apiServerURL, 'https://[fd00:28:1::2]:6443');
    assert.equal(plan.ipFamily, 'ipv6');
  });

  it('serves one IPv6 cluster and service CIDR', () => {
    assert.deepEqual(clusterCidrs('ipv6'), ['fd00:10:244::/56']);
    assert.deepEqual(serviceCidrs('ipv6'), ['fd00:10:96::/112']);
    assert.deepEqual(clusterCidrs('dual'), ['10.244.0.0/16', 'fd00:10:244::/56']);
    assert.deepEqual(clusterCidrs(undefined), ['10.244.0.0/16']);
  });

  it('dual-stack and IPv4 plans keep their IPv4 primary address', () => {
    const dual = computeClusterPlan(parseClusterSpec({ name: 'ds', ipFamily: 'dual' }));
    assert.deepEqual(nodeIps(dual.nodes[0] as NodePlan), ['172.28.1.11', 'fd00:28:1::11']);
    assert.equal(ipFamilyOfNode(dual.nodes[0] as NodePlan), 'dual');
    assert.equal(dual.apiServerURL, 'https://172.28.1.2:6443');
    assert.equal(dual.subnets[1]?.cidr, '172.28.2.0/24');
    const one = computeClusterPlan(parseClusterSpec({ name: 'one', subnets: 1, ipFamily: 'ipv6' }));
    assert.deepEqual(new Set(one.nodes.map((n) => n.subnet)), new Set(['fd00:28:1::/64']));
  });
});

describe('podNetnsName', () => {
  it('keeps pods under the cluster prefix and rejects unsafe ids', () => {
    assert.equal(podNetnsName({ netns: 'wcdemo-node1' }, 'web-1'), 'wcdemo-node1-web-1');
    assert.ok(podNetnsName({ netns: 'wcdemo-node1' }, 'x').startsWith(netnsPrefix('demo')));
    assert.throws(() => podNetnsName({ netns: 'wcdemo-node1' }, '../etc'), /podId/);
  });
});
