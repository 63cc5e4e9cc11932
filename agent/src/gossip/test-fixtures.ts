import type { NodeRecord } from './record.js';

/** A valid record for tests; override any field. */
export function sampleRecord(over: Partial<NodeRecord> = {}): NodeRecord {
  return {
    name: 'node-a',
    incarnation: '00lx00000-0000000a',
    version: 1,
    contentVersion: 1,
    underlayIP: '10.0.0.1',
    gossipPort: 9743,
    podCIDRs: ['10.244.1.0/24'],
    backend: 'auto',
    mtu: 1450,
    ready: true,
    agentVersion: '0.1.0',
    reachability: {},
    ...over,
  };
}
