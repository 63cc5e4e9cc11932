import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../agent/src/config/config-error.js';
import { formatCidr } from '../../common/cidr.js';
import { parseControllerNetConf } from './net-conf.js';

describe('parseControllerNetConf', () => {
  it('keeps clusterCIDRs and nodeCIDRMaskSize and ignores the agent fields', () => {
    const table: Array<{ text: string; cidrs: string[]; mask: number }> = [
      {
        text: '{"clusterCIDRs":["10.244.0.0/16"],"backend":{"type":"auto"},"mtu":1400,"nodeCIDRMaskSize":24}',
        cidrs: ['10.244.0.0/16'],
        mask: 24,
      },
      {
        text: '{"clusterCIDRs":["10.244.0.0/16","10.250.0.0/20"]}',
        cidrs: ['10.244.0.0/16', '10.250.0.0/20'],
        mask: 24,
      },
      { text: '{"network":"10.1.0.0/16","nodeCIDRMaskSize":26}', cidrs: ['10.1.0.0/16'], mask: 26 },
    ];
    for (const row of table) {
      const conf = parseControllerNetConf(row.text);
      assert.deepEqual(conf.ipv4ClusterCidrs.map(formatCidr), row.cidrs);
      assert.equal(conf.nodeCidrMaskSize, row.mask);
    }
  });

  it('rejects bad input naming the field', () => {
    const table: Array<{ text: string; field: string; reason: RegExp }> = [
      { text: 'nope', field: 'net-conf', reason: /not JSON/ },
      { text: '[]', field: 'net-conf', reason: /JSON object/ },
      { text: '{}', field: 'clusterCIDRs', reason: /required/ },
      { text: '{"clusterCIDRs":[]}', field: 'clusterCIDRs', reason: /non-empty/ },
      { text: '{"clusterCIDRs":"10.0.0.0/8"}', field: 'clusterCIDRs', reason: /non-empty list/ },
      { text: '{"clusterCIDRs":["10.0.0.0/8",7]}', field: 'clusterCIDRs[1]', reason: /CIDR string/ },
      { text: '{"clusterCIDRs":["10.244.1.0/16"]}', field: 'clusterCIDRs[0]', reason: /host bits/ },
      { text: '{"clusterCIDRs":["fd00::/48"]}', field: 'clusterCIDRs[0]', reason: /IPv6/ },
      {
        text: '{"clusterCIDRs":["10.0.0.0/8","10.244.0.0/16"]}',
        field: 'clusterCIDRs[1]',
        reason: /overlaps/,
      },
      {
        text: '{"clusterCIDRs":["10.0.0.0/8"],"network":"10.0.0.0/8"}',
        field: 'network',
        reason: /not both/,
      },
      {
        text: '{"clusterCIDRs":["10.0.0.0/8"],"nodeCIDRMaskSize":"24"}',
        field: 'nodeCIDRMaskSize',
        reason: /integer/,
      },
      {
        text: '{"clusterCIDRs":["10.0.0.0/8"],"nodeCIDRMaskSize":31}',
        field: 'nodeCIDRMaskSize',
        reason: /8 to 30/,
      },
      {
        text: '{"clusterCIDRs":["10.244.0.0/16"],"nodeCIDRMaskSize":12}',
        field: 'nodeCIDRMaskSize',
        reason: /at least/,
      },
      {
        text: '{"clusterCIDRs":["10.0.0.0/8"],"nodeCIDRMaskSize":25}',
        field: 'nodeCIDRMaskSize',
        reason: /65536/,
      },
    ];
    for (const row of table) {
      assert.throws(
        () => parseControllerNetConf(row.text),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.field === row.field &&
          row.reason.test(err.message) &&
          err.message.includes(row.field),
        row.text,
      );
    }
  });
});
