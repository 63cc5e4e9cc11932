import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../e2e/cluster/prereq.js';
import { DASHBOARD_PATH, dashboardProblems, dashboardQueries } from './dashboard.js';
import { agentRegistryForDocs, controllerRegistryForDocs, weftMetrics } from './metrics-doc.js';

const registered = [...weftMetrics(agentRegistryForDocs()), ...weftMetrics(controllerRegistryForDocs())];
const queries = dashboardQueries(readFileSync(join(repoRoot(), DASHBOARD_PATH), 'utf8'));

describe('the Grafana dashboard', () => {
  it('queries only metrics the agent and the controller register, by their own labels', () => {
    assert.ok(queries.length > 20, `only ${queries.length} queries found`);
    assert.deepEqual(dashboardProblems(queries, registered), []);
  });

  it('has panels for peers, routes, reconcile and CNI latency, IPAM, gossip traffic and rejections, policy drops', () => {
    const all = queries.map((q) => q.expr).join('\n');
    for (const m of [
      'weft_peers',
      'weft_gossip_peers',
      'weft_routes',
      'weft_reconcile_duration_seconds_bucket',
      'weft_cni_request_duration_seconds_bucket',
      'weft_ipam_allocated',
      'weft_ipam_capacity',
      'weft_gossip_bytes_total',
      'weft_gossip_messages_total',
      'weft_gossip_rejected_total',
      'weft_networkpolicy_dropped_packets_total',
    ]) {
      assert.ok(all.includes(m), `no panel queries ${m}`);
    }
  });

  it('finds a metric that is not registered, a histogram suffix on a gauge, and a foreign label', () => {
    const problems = dashboardProblems(
      [
        { where: 'a', expr: 'sum(rate(weft_no_such_total[5m]))' },
        { where: 'b', expr: 'weft_peers_bucket' },
        { where: 'c', expr: 'sum by (backend, colour) (weft_routes)' },
        { where: 'd', expr: 'up' },
        {
          where: 'e',
          expr: 'histogram_quantile(0.9, sum by (le) (rate(weft_reconcile_duration_seconds_bucket[1m])))',
        },
      ],
      registered,
    );
    assert.deepEqual(problems, [
      'a: weft_no_such_total is not a registered metric',
      'b: weft_peers_bucket is not a registered metric',
      'c: groups by colour, a label none of weft_routes has',
      'd: queries no weft_ metric: up',
    ]);
  });
});
