import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseControllerNetConf } from './net-conf.js';
import { createPodCidrAllocators, missingFamilies } from './pod-cidr-allocators.js';

describe('createPodCidrAllocators', () => {
  it('makes one allocator per family in the order of clusterCIDRs, each with its mask', () => {
    const table: Array<{ conf: string; first: string[] }> = [
      { conf: '{"clusterCIDRs":["10.244.0.0/16"]}', first: ['10.244.0.0/24'] },
      {
        conf: '{"clusterCIDRs":["10.244.0.0/24","10.245.0.0/24"],"nodeCIDRMaskSize":25}',
        first: ['10.244.0.0/25'],
      },
      { conf: '{"clusterCIDRs":["10.244.0.0/16","fd00:10::/48"]}', first: ['10.244.0.0/24', 'fd00:10::/64'] },
      {
        conf: '{"clusterCIDRs":["fd00:10::/56","10.244.0.0/16"],"nodeCIDRMaskSize":26}',
        first: ['fd00:10::/64', '10.244.0.0/26'],
      },
      { conf: '{"network":"fd00::/112","nodeCIDRMaskSizeIPv6":120}', first: ['fd00::/120'] },
      // IPv6-only (ADR 19): one allocator, the Node's only podCIDR; the IPv4 size is unused
      { conf: '{"clusterCIDRs":["fd00:10:244::/56"],"nodeCIDRMaskSize":26}', first: ['fd00:10:244::/64'] },
    ];
    for (const row of table) {
      const allocators = createPodCidrAllocators(parseControllerNetConf(row.conf));
      assert.deepEqual(
        allocators.map((a) => a.allocate({ name: 'n', uid: 'n' })),
        row.first,
        row.conf,
      );
    }
  });
});

describe('missingFamilies', () => {
  it('names the configured families a Node has no podCIDR of', () => {
    const dual = createPodCidrAllocators(
      parseControllerNetConf('{"clusterCIDRs":["10.244.0.0/16","fd00::/48"]}'),
    );
    const v4 = createPodCidrAllocators(parseControllerNetConf('{"clusterCIDRs":["10.244.0.0/16"]}'));
    const v6 = createPodCidrAllocators(parseControllerNetConf('{"clusterCIDRs":["fd00::/48"]}'));
    const table: Array<{ allocators: typeof dual; podCIDRs: string[]; missing: Array<4 | 6> }> = [
      { allocators: dual, podCIDRs: ['10.244.1.0/24', 'fd00:0:0:1::/64'], missing: [] },
      { allocators: dual, podCIDRs: ['fd00:0:0:1::/64', '10.244.1.0/24'], missing: [] },
      { allocators: dual, podCIDRs: ['10.244.1.0/24'], missing: [6] },
      { allocators: dual, podCIDRs: ['fd00:0:0:1::/64'], missing: [4] },
      { allocators: dual, podCIDRs: [], missing: [4, 6] },
      { allocators: v4, podCIDRs: ['10.244.1.0/24'], missing: [] },
      { allocators: v4, podCIDRs: ['fd00:0:0:1::/64'], missing: [4] },
      { allocators: v6, podCIDRs: ['fd00:0:0:1::/64'], missing: [] },
      { allocators: v6, podCIDRs: ['10.244.1.0/24'], missing: [6] },
      { allocators: v6, podCIDRs: [], missing: [6] },
    ];
    for (const row of table) {
      assert.deepEqual(missingFamilies(row.allocators, row.podCIDRs), row.missing, row.podCIDRs.join());
    }
  });
});
