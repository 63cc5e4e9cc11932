import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeClusterPlan } from './plan.js';
import { parseClusterSpec } from './spec.js';
import { planTopologyCommands } from './topology.js';

describe('planTopologyCommands', () => {
  const plan = computeClusterPlan(parseClusterSpec({ name: 'demo' }));
  const cmds = planTopologyCommands(plan);
  const lines = cmds.map((c) => c.join(' '));

  it('only ever targets the cluster namespaces, never the root one', () => {
    for (const c of cmds) {
      const target = c[1] === '-n' ? c[2] : c[1] === 'netns' && c[2] === 'exec' ? c[3] : undefined;
      assert.ok(target?.startsWith('wcdemo-'), `command without a cluster namespace: ${c.join(' ')}`);
    }
  });

  it('creates veths inside the router with the peer moved straight into the node', () => {
    assert.ok(lines.includes('ip -n wcdemo-rt link add vn3 type veth peer name eth0 netns wcdemo-node3'));
    assert.ok(lines.includes('ip -n wcdemo-rt link set vn3 master brb'));
    assert.ok(lines.includes('ip -n wcdemo-node3 route add default via 172.28.2.1'));
  });

  it('turns on forwarding in the router and the nodes only', () => {
    const sysctls = lines.filter((l) => l.includes('sysctl'));
    assert.deepEqual(
      sysctls.map((l) => l.split(' ')[3]),
      ['wcdemo-rt', 'wcdemo-node1', 'wcdemo-node2', 'wcdemo-node3'],
    );
  });

  it('routes the external host back to the underlay but not to pod networks', () => {
    const extRoutes = lines.filter((l) => l.startsWith('ip -n wcdemo-ext route'));
    assert.deepEqual(extRoutes, ['ip -n wcdemo-ext route add 172.28.0.0/16 via 203.0.113.1']);
  });

  it('builds one bridge per subnet', () => {
    assert.equal(lines.filter((l) => l.includes('type bridge')).length, 2);
    const single = planTopologyCommands(computeClusterPlan(parseClusterSpec({ name: 'one', subnets: 1 })));
    assert.equal(single.filter((c) => c.includes('bridge')).length, 1);
  });
});

describe('planTopologyCommands, dual-stack', () => {
  const plan = computeClusterPlan(parseClusterSpec({ name: 'ds', ipFamily: 'dual' }));
  const lines = planTopologyCommands(plan).map((c) => c.join(' '));

  it('gives every node an IPv6 underlay address on its subnet (no DAD) and a default route via its router', () => {
    assert.deepEqual(
      plan.nodes.map((n) => [n.ip6, n.gateway6]),
      [
        ['fd00:28:1::11', 'fd00:28:1::1'],
        ['fd00:28:1::12', 'fd00:28:1::1'],
        ['fd00:28:2::13', 'fd00:28:2::1'],
      ],
    );
    assert.ok(lines.includes('ip -n wcds-node3 addr add fd00:28:2::13/64 dev eth0 nodad'));
    assert.ok(lines.includes('ip -n wcds-node3 -6 route add default via fd00:28:2::1'));
    assert.ok(lines.includes('ip -n wcds-rt addr add fd00:28:2::1/64 dev brb nodad'));
  });

  it('forwards IPv6 in the router only (the agents turn it on in the nodes) and routes the external host back', () => {
    const v6 = lines.filter((l) => l.includes('net.ipv6'));
    assert.deepEqual(v6, ['ip netns exec wcds-rt sysctl -q -w net.ipv6.conf.all.forwarding=1']);
    assert.ok(lines.includes('ip -n wcds-ext -6 route add fd00:28::/32 via 2001:db8:113::1'));
  });

  it('an IPv4 cluster has no IPv6 address anywhere', () => {
    const v4 = planTopologyCommands(computeClusterPlan(parseClusterSpec({ name: 'v4' })));
    assert.ok(
      !v4.some((c) => c.some((a) => a.includes(':') && !a.startsWith('net.'))),
      'IPv6 in an ipv4 plan',
    );
  });
});

describe('planTopologyCommands, IPv6-only', () => {
  const plan = computeClusterPlan(parseClusterSpec({ name: 'six', ipFamily: 'ipv6' }));
  const cmds = planTopologyCommands(plan);
  const lines = cmds.map((c) => c.join(' '));

  it('has no IPv4 address, route or sysctl anywhere', () => {
    assert.ok(
      !lines.some((l) => /\d+\.\d+\.\d+\.\d+/.test(l)),
      lines.find((l) => /\d+\.\d+\.\d+\./.test(l)),
    );
    assert.ok(!lines.some((l) => l.includes('net.ipv4')));
    assert.ok(!lines.some((l) => / route add /.test(l) && !l.includes(' -6 ')), 'an IPv4 route');
  });

  it('gives the router ::1 on both bridges with IPv6 forwarding, the nodes their address and default route', () => {
    assert.ok(lines.includes('ip -n wcsix-rt addr add fd00:28:1::1/64 dev bra nodad'));
    assert.ok(lines.includes('ip -n wcsix-rt addr add fd00:28:2::1/64 dev brb nodad'));
    assert.deepEqual(
      lines.filter((l) => l.includes('sysctl')),
      ['ip netns exec wcsix-rt sysctl -q -w net.ipv6.conf.all.forwarding=1'],
    );
    assert.ok(lines.includes('ip -n wcsix-node3 addr add fd00:28:2::13/64 dev eth0 nodad'));
    assert.ok(lines.includes('ip -n wcsix-node3 -6 route add default via fd00:28:2::1'));
    assert.ok(lines.includes('ip -n wcsix-rt link set vn3 master brb'));
    assert.ok(lines.includes('ip -n wcsix-cp addr add fd00:28:1::2/64 dev eth0 nodad'));
    assert.equal(lines.filter((l) => l.includes('addr add')).length, 2 + 1 + 3 + 2);
  });

  it('routes the external host back to the IPv6 underlay only', () => {
    assert.deepEqual(
      lines.filter((l) => l.startsWith('ip -n wcsix-ext') && l.includes('route')),
      ['ip -n wcsix-ext -6 route add fd00:28::/32 via 2001:db8:113::1'],
    );
    assert.ok(lines.includes('ip -n wcsix-ext addr add 2001:db8:113::2/64 dev eth0 nodad'));
  });
});
