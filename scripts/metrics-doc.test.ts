import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { METRICS_DOC_URL, renderMetricsReference } from './metrics-doc.js';

describe('docs/metrics.md', () => {
  it('matches the metrics the code registers (regenerate: node dist/scripts/metrics-doc.js --write)', () => {
    assert.equal(readFileSync(METRICS_DOC_URL, 'utf8'), renderMetricsReference());
  });
  it('documents the metrics the issues require', () => {
    const doc = renderMetricsReference();
    for (const name of [
      'weft_peers',
      'weft_routes',
      'weft_reconcile_duration_seconds',
      'weft_reconcile_errors_total',
      'weft_last_reconcile_success_timestamp_seconds',
      'weft_build_info',
      'weft_cni_requests_total',
      'weft_cni_request_duration_seconds',
      'weft_ipam_allocated',
      'weft_ipam_capacity',
      'weft_gossip_messages_total',
      'weft_gossip_bytes_total',
      'weft_gossip_rejected_total',
      'weft_networkpolicy_dropped_packets_total',
      'weft_networkpolicy_policies',
      'weft_networkpolicy_pods',
      'weft_networkpolicy_compile_duration_seconds',
      'weft_networkpolicy_apply_duration_seconds',
      'weft_networkpolicy_compile_errors_total',
      'weft_networkpolicy_unenforceable_total',
      'weft_controller_is_leader',
    ]) {
      assert.match(doc, new RegExp(`\`${name}\``), name);
    }
  });
});
