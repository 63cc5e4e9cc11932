import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NftTableState, PolicyContent } from '../../agent/src/datapath/state.js';
import { kernelCounts, policyDifferences } from './policy-kernel.js';

const chain = (name: string, rules: string[]) => ({ name, type: '', hook: '', prio: 0, policy: '', rules });
const set = (name: string, elements: string[]) => ({ name, type: 'ipv4_addr', flags: 'interval', elements });
const content: PolicyContent = {
  sets: [set('pe_a', ['10.0.0.1/32', '10.0.0.2/32'])],
  chains: [chain('in_a', ['est', 'allow', 'drop'])],
  rules: new Map(),
  ingress: ['10.244.2.10 : jump in_a'],
  egress: [],
};
const kernel = (over: Partial<NftTableState> = {}): NftTableState => ({
  sets: [set('cluster4', ['10.244.0.0/16']), ...content.sets],
  maps: [
    { name: 'pol_egress', type: 'ipv4_addr : verdict', elements: [] },
    { name: 'pol_ingress', type: 'ipv4_addr : verdict', elements: [...content.ingress] },
  ],
  counters: [],
  chains: [chain('forward', ['a', 'b']), ...content.chains],
  ...over,
});

describe('policy in the kernel', () => {
  it('counts chains, rules, set and map elements, and the measured chain', () => {
    assert.deepEqual(kernelCounts(kernel(), 'in_a'), {
      chains: 2,
      rules: 5,
      sets: 2,
      setElements: 3,
      ingressMapElements: 1,
      egressMapElements: 0,
      measuredChainRules: 3,
    });
    assert.equal(kernelCounts(kernel(), undefined).measuredChainRules, 0);
  });

  it('names what differs from the compiled part', () => {
    assert.deepEqual(policyDifferences(kernel(), content), []);
    const table = kernel({
      chains: [chain('in_a', ['est', 'drop'])],
      sets: [],
      maps: [{ name: 'pol_ingress', type: '', elements: ['10.244.2.99 : jump in_a'] }],
    });
    assert.deepEqual(policyDifferences(table, content), [
      'chain in_a: 2 rules, compiled 3',
      'set pe_a missing',
      'map pol_ingress: 1 entries missing, e.g. 10.244.2.10 : jump in_a',
      'map pol_ingress: 1 entries not compiled',
    ]);
  });
});
