import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../agent/src/config/config-error.js';
import { formatCidr } from '../../common/cidr.js';
import { formatIpPrefix } from '../../common/ip-prefix.js';
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

  it('accepts one CIDR per family in the order given, with a mask size per family', () => {
    const table: Array<{ text: string; cidrs: string[]; ipv4: string[]; mask: number; mask6: number }> = [
      {
        text: '{"clusterCIDRs":["10.244.0.0/16","fd00:10::/48"]}',
        cidrs: ['10.244.0.0/16', 'fd00:10::/48'],
        ipv4: ['10.244.0.0/16'],
        mask: 24,
        mask6: 64,
      },
      {
        text: '{"clusterCIDRs":["FD00:10::/56","10.244.0.0/16"],"nodeCIDRMaskSizeIPv6":64,"nodeCIDRMaskSize":26}',
        cidrs: ['fd00:10::/56', '10.244.0.0/16'],
        ipv4: ['10.244.0.0/16'],
        mask: 26,
        mask6: 64,
      },
      // IPv6-only, also in the single-string form
      { text: '{"clusterCIDRs":["fd00::/48"]}', cidrs: ['fd00::/48'], ipv4: [], mask: 24, mask6: 64 },
      {
        text: '{"network":"fd00::/104","nodeCIDRMaskSizeIPv6":120}',
        cidrs: ['fd00::/104'],
        ipv4: [],
        mask: 24,
        mask6: 120,
      },
      // an IPv4-only net-conf may set the IPv6 size; it is unused
      {
        text: '{"clusterCIDRs":["10.1.0.0/16"],"nodeCIDRMaskSizeIPv6":80}',
        cidrs: ['10.1.0.0/16'],
        ipv4: ['10.1.0.0/16'],
        mask: 24,
        mask6: 80,
      },
    ];
    for (const row of table) {
      const conf = parseControllerNetConf(row.text);
      assert.deepEqual(conf.clusterCidrs.map(formatIpPrefix), row.cidrs, row.text);
      assert.deepEqual(conf.ipv4ClusterCidrs.map(formatCidr), row.ipv4, row.text);
      assert.equal(conf.nodeCidrMaskSize, row.mask, row.text);
      assert.equal(conf.nodeCidrMaskSizeIpv6, row.mask6, row.text);
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
      { text: '{"clusterCIDRs":["fd00::1/48"]}', field: 'clusterCIDRs[0]', reason: /host bits/ },
      { text: '{"clusterCIDRs":["::ffff:10.0.0.0/104"]}', field: 'clusterCIDRs[0]', reason: /IPv4-mapped/ },
      { text: '{"clusterCIDRs":["fe80::%eth0/64"]}', field: 'clusterCIDRs[0]', reason: /zone/ },
      {
        text: '{"clusterCIDRs":["fd00::/48","fd01::/48"]}',
        field: 'clusterCIDRs[1]',
        reason: /second IPv6 cluster CIDR \(clusterCIDRs\[0\] is one\): at most one per family/,
      },
      {
        text: '{"clusterCIDRs":["10.244.0.0/16","fd00::/48","10.250.0.0/16"]}',
        field: 'clusterCIDRs[2]',
        reason: /second IPv4 cluster CIDR/,
      },
      {
        text: '{"clusterCIDRs":["fd00::/48","fd00:0:0:1::/64"]}',
        field: 'clusterCIDRs[1]',
        reason: /second IPv6/,
      },
      {
        text: '{"clusterCIDRs":["10.0.0.0/8"],"nodeCIDRMaskSizeIPv6":127}',
        field: 'nodeCIDRMaskSizeIPv6',
        reason: /8 to 126/,
      },
      {
        text: '{"clusterCIDRs":["10.0.0.0/8"],"nodeCIDRMaskSizeIPv6":64.5}',
        field: 'nodeCIDRMaskSizeIPv6',
        reason: /integer/,
      },
      {
        text: '{"clusterCIDRs":["10.244.0.0/16","fd00::/64"],"nodeCIDRMaskSizeIPv6":56}',
        field: 'nodeCIDRMaskSizeIPv6',
        reason: /at least the prefix length of clusterCIDRs\[1\] fd00::\/64/,
      },
      {
        text: '{"clusterCIDRs":["fd00::/32"]}',
        field: 'nodeCIDRMaskSizeIPv6',
        reason: /splits clusterCIDRs\[0\] fd00::\/32 into more than 65536/,
      },
      {
        text: '{"clusterCIDRs":["fd00::/48","10.0.0.0/8"],"nodeCIDRMaskSize":25}',
        field: 'nodeCIDRMaskSize',
        reason: /splits clusterCIDRs\[1\] 10\.0\.0\.0\/8/,
      },
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
