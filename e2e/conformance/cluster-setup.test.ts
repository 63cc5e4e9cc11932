import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONTROL_PLANE_ROUTE_TABLE, planControlPlanePodRoutes, planZoneLabels } from './cluster-setup.js';

const input = {
  controlPlaneNetns: 'wccf-cp',
  controlPlaneIp: '172.28.1.2',
  controlPlaneSubnet: '172.28.1.0/24',
  controlPlaneGateway: '172.28.1.1',
  routerNetns: 'wccf-rt',
  nodes: [
    { name: 'cf-node1', ip: '172.28.1.11', subnet: '172.28.1.0/24' },
    { name: 'cf-node2', ip: '172.28.1.12', subnet: '172.28.1.0/24' },
    { name: 'cf-node3', ip: '172.28.2.13', subnet: '172.28.2.0/24' },
  ],
  podCidrs: new Map([
    ['cf-node1', ['10.244.0.0/24']],
    ['cf-node2', ['10.244.1.0/24']],
    ['cf-node3', ['10.244.2.0/24', 'fd00::/64']],
  ]),
};

describe('what the e2e suite needs from the cluster', () => {
  it('control plane → pods: on-link nodes via their IP, the other subnet via the router, whose route only the control plane uses', () => {
    const t = String(CONTROL_PLANE_ROUTE_TABLE);
    assert.deepEqual(planControlPlanePodRoutes(input), [
      ['ip', '-n', 'wccf-rt', 'rule', 'del', 'pref', t],
      ['ip', '-n', 'wccf-cp', 'route', 'replace', '10.244.0.0/24', 'via', '172.28.1.11'],
      ['ip', '-n', 'wccf-cp', 'route', 'replace', '10.244.1.0/24', 'via', '172.28.1.12'],
      ['ip', '-n', 'wccf-cp', 'route', 'replace', '10.244.2.0/24', 'via', '172.28.1.1'],
      ['ip', '-n', 'wccf-rt', 'route', 'replace', '10.244.2.0/24', 'via', '172.28.2.13', 'table', t],
      ['ip', '-n', 'wccf-rt', 'rule', 'add', 'pref', t, 'from', '172.28.1.2', 'lookup', t],
    ]);
  });

  it('IPv6-only: the same routes for the IPv6 podCIDRs, the router rule in the IPv6 family', () => {
    const t = String(CONTROL_PLANE_ROUTE_TABLE);
    const v6 = {
      ...input,
      controlPlaneIp: 'fd00:28:1::2',
      controlPlaneSubnet: 'fd00:28:1::/64',
      controlPlaneGateway: 'fd00:28:1::1',
      nodes: [
        { name: 'cf-node1', ip: 'fd00:28:1::11', subnet: 'fd00:28:1::/64' },
        { name: 'cf-node3', ip: 'fd00:28:2::13', subnet: 'fd00:28:2::/64' },
      ],
      podCidrs: new Map([
        ['cf-node1', ['fd00:10:244::/64']],
        ['cf-node3', ['fd00:10:244:2::/64']],
      ]),
    };
    assert.deepEqual(planControlPlanePodRoutes(v6), [
      ['ip', '-6', '-n', 'wccf-rt', 'rule', 'del', 'pref', t],
      ['ip', '-n', 'wccf-cp', 'route', 'replace', 'fd00:10:244::/64', 'via', 'fd00:28:1::11'],
      ['ip', '-n', 'wccf-cp', 'route', 'replace', 'fd00:10:244:2::/64', 'via', 'fd00:28:1::1'],
      ['ip', '-n', 'wccf-rt', 'route', 'replace', 'fd00:10:244:2::/64', 'via', 'fd00:28:2::13', 'table', t],
      ['ip', '-6', '-n', 'wccf-rt', 'rule', 'add', 'pref', t, 'from', 'fd00:28:1::2', 'lookup', t],
    ]);
  });

  it('one subnet: no router rule at all', () => {
    const one = { ...input, nodes: input.nodes.slice(0, 2) };
    assert.ok(planControlPlanePodRoutes(one).every((c) => c[2] === 'wccf-cp'));
  });

  it('a node without podCIDR is an error, not a silent gap', () => {
    assert.throws(
      () => planControlPlanePodRoutes({ ...input, podCidrs: new Map() }),
      /cf-node1 has no podCIDR/,
    );
  });

  it('every node gets a zone of its own', () => {
    const l = planZoneLabels(input.nodes);
    assert.equal(new Set(l.map((a) => a.at(-1))).size, 3);
    assert.deepEqual(l[2], [
      'label',
      'node',
      'cf-node3',
      '--overwrite',
      'topology.kubernetes.io/zone=zone-3',
    ]);
  });
});
