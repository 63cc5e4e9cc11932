import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { echoedAddress, parseNodeIps, parsePods } from './connectivity.js';

describe('connectivity check parsing', () => {
  it('takes the address out of what a server echoed', () => {
    assert.equal(echoedAddress('10.244.1.5:43122\n'), '10.244.1.5');
    assert.equal(echoedAddress('172.28.1.11'), '172.28.1.11');
    assert.equal(echoedAddress('[fd00::5]:8080'), 'fd00::5');
    assert.equal(echoedAddress('curl: (28) timeout'), 'curl: (28) timeout');
  });

  it('reads pods and node addresses from kubectl JSON', () => {
    const pods = parsePods(
      JSON.stringify({
        items: [
          {
            metadata: { name: 'a' },
            spec: { nodeName: 'n1' },
            status: { podIP: '10.0.0.1', hostIP: '1.1.1.1' },
          },
        ],
      }),
    );
    assert.deepEqual(pods, [{ name: 'a', node: 'n1', ip: '10.0.0.1', hostIp: '1.1.1.1' }]);
    const ips = parseNodeIps(
      JSON.stringify({
        items: [
          {
            metadata: { name: 'n1' },
            status: {
              addresses: [
                { type: 'Hostname', address: 'n1' },
                { type: 'InternalIP', address: '172.28.1.11' },
              ],
            },
          },
          { metadata: { name: 'n2' }, status: {} },
        ],
      }),
    );
    assert.deepEqual([...ips], [['n1', '172.28.1.11']]);
  });

  it('dual-stack: the pod IPv6 address from status.podIPs, node addresses per family', () => {
    const pods = parsePods(
      JSON.stringify({
        items: [
          {
            metadata: { name: 'a' },
            spec: { nodeName: 'n1' },
            status: {
              podIP: '10.0.0.1',
              podIPs: [{ ip: '10.0.0.1' }, { ip: 'fd00:10:244::5' }],
              hostIP: '1.1.1.1',
            },
          },
        ],
      }),
    );
    assert.equal(pods[0]?.ip6, 'fd00:10:244::5');
    // IPv6-only: the one address is the primary; no second (IPv6) round of checks.
    const only6 = parsePods(
      JSON.stringify({
        items: [
          {
            status: { podIP: 'fd00:10:244::7', podIPs: [{ ip: 'fd00:10:244::7' }], hostIP: 'fd00:28:1::11' },
          },
        ],
      }),
    );
    assert.equal(only6[0]?.ip, 'fd00:10:244::7');
    assert.equal(only6[0]?.ip6, undefined);
    const nodes = JSON.stringify({
      items: [
        {
          metadata: { name: 'n1' },
          status: {
            addresses: [
              { type: 'InternalIP', address: '172.28.1.11' },
              { type: 'InternalIP', address: 'fd00:28:1::11' },
            ],
          },
        },
      ],
    });
    assert.deepEqual([...parseNodeIps(nodes)], [['n1', '172.28.1.11']]);
    assert.deepEqual([...parseNodeIps(nodes, 6)], [['n1', 'fd00:28:1::11']]);
  });
});
