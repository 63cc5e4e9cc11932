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
