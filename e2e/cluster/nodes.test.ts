import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCliArgs } from './cli-args.js';
import { desiredNodeObjects, parsePodCidrs } from './nodes.js';
import { computeClusterPlan } from './plan.js';
import { checkBinDir } from './prereq.js';
import { readProcStartTime } from './processes.js';
import { ClusterError, parseClusterSpec } from './spec.js';

describe('node objects', () => {
  it('gives each Node its InternalIP and Hostname', () => {
    const list = desiredNodeObjects(computeClusterPlan(parseClusterSpec({ name: 'demo', nodes: 2 }))) as {
      items: Array<{ metadata: { name: string }; status: { addresses: unknown[] } }>;
    };
    assert.deepEqual(
      list.items.map((i) => [i.metadata.name, i.status.addresses]),
      [
        [
          'demo-node1',
          [
            { type: 'InternalIP', address: '172.28.1.11' },
            { type: 'Hostname', address: 'demo-node1' },
          ],
        ],
        [
          'demo-node2',
          [
            { type: 'InternalIP', address: '172.28.2.12' },
            { type: 'Hostname', address: 'demo-node2' },
          ],
        ],
      ],
    );
  });

  it('IPv6-only: one IPv6 InternalIP per Node; dual-stack: IPv4 first, then IPv6', () => {
    const addressesOf = (ipFamily: 'ipv6' | 'dual') =>
      (
        desiredNodeObjects(computeClusterPlan(parseClusterSpec({ name: 'x', nodes: 1, ipFamily }))) as {
          items: Array<{ status: { addresses: Array<{ type: string; address: string }> } }>;
        }
      ).items[0]?.status.addresses
        .filter((a) => a.type === 'InternalIP')
        .map((a) => a.address);
    assert.deepEqual(addressesOf('ipv6'), ['fd00:28:1::11']);
    assert.deepEqual(addressesOf('dual'), ['172.28.1.11', 'fd00:28:1::11']);
  });

  it('reports podCIDRs only once every wanted node has one', () => {
    const list = {
      items: [
        { metadata: { name: 'a' }, spec: { podCIDRs: ['10.244.0.0/24'] } },
        { metadata: { name: 'b' }, spec: {} },
        { metadata: { name: 'other' }, spec: { podCIDR: '10.244.9.0/24' } },
      ],
    };
    assert.equal(parsePodCidrs(list, ['a', 'b']), undefined);
    assert.deepEqual(
      parsePodCidrs(list, ['a', 'other']),
      new Map([
        ['a', ['10.244.0.0/24']],
        ['other', ['10.244.9.0/24']],
      ]),
    );
    assert.equal(parsePodCidrs({ kind: 'Status' }, ['a']), undefined);
  });
});

describe('parseCliArgs', () => {
  it('parses up with every flag', () => {
    assert.deepEqual(
      parseCliArgs([
        'up',
        '--nodes',
        '4',
        '--name',
        'demo',
        '--subnets',
        '1',
        '--no-allocate-node-cidrs',
        '--kubelet',
      ]),
      {
        cmd: 'up',
        spec: { name: 'demo', nodes: 4, subnets: 1, allocateNodeCidrs: false, kubelet: true },
      },
    );
  });

  it('parses --ip-family ipv6', () => {
    assert.deepEqual(parseCliArgs(['up', '--ip-family', 'ipv6']), {
      cmd: 'up',
      spec: { name: 'e2e', allocateNodeCidrs: true, kubelet: false, ipFamily: 'ipv6' },
    });
  });

  it('defaults down to the e2e cluster', () => {
    assert.deepEqual(parseCliArgs(['down']), { cmd: 'down', name: 'e2e', keepLogs: false });
  });

  it('names the bad flag', () => {
    assert.throws(() => parseCliArgs(['up', '--nodes', 'three']), /--nodes must be/);
    assert.throws(() => parseCliArgs(['up', '--subnets', '3']), /spec.subnets/);
    assert.throws(
      () => parseCliArgs(['up', '--bogus']),
      (e: unknown) => e instanceof ClusterError && e.code === 'EUSAGE',
    );
    assert.throws(() => parseCliArgs(['launch']), /unknown command/);
  });
});

describe('readProcStartTime', () => {
  it('reads this process and nothing for a pid that cannot exist', () => {
    assert.match(readProcStartTime(process.pid) ?? '', /^\d+$/);
    assert.equal(readProcStartTime(2 ** 30), undefined);
  });
});

describe('checkBinDir', () => {
  it('names the missing binary and how to build it', () => {
    assert.throws(
      () => checkBinDir('/nonexistent/k8s'),
      (e: unknown) =>
        e instanceof ClusterError &&
        e.code === 'EMISSINGBINARIES' &&
        e.message.includes('/nonexistent/k8s/etcd') &&
        e.message.includes('e2e/controlplane/build.sh'),
    );
  });
});
