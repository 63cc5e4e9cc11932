import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planNft } from './nft-plan.js';
import { desiredNftTable, type NftInputs, nftRuleTexts, withPolicyContent } from './nft-ruleset.js';
import type { NftTableState, PolicyContent } from './state.js';

const inputs: NftInputs = {
  cluster: ['10.244.0.0/16'],
  noMasquerade: ['10.244.0.0/16'],
  networkPolicy: true,
};
const base = desiredNftTable(inputs);
const baseRules = nftRuleTexts(inputs);

function content(peers: string[], chain = 'in_aaaa', pods = ['10.244.1.5']): PolicyContent {
  return {
    sets: [{ name: 'pe_1111', type: 'ipv4_addr', flags: 'interval', elements: peers }],
    chains: [{ name: chain, type: '', hook: '', prio: 0, policy: '', rules: ['r-1', 'r-drop'] }],
    rules: new Map([
      ['r-1', 'ip saddr @pe_1111 return'],
      ['r-drop', 'counter name "pol_drop_ingress" drop'],
    ]),
    ingress: pods.map((p) => `${p} : jump ${chain}`),
    egress: [],
  };
}
const rulesOf = (c: PolicyContent) => new Map([...baseRules, ...c.rules]);
const plan = (want: PolicyContent, have: NftTableState | undefined, pending = false) =>
  planNft(withPolicyContent(base, want), rulesOf(want), have, pending);

describe('planNft', () => {
  it('creates the whole table when there is none', () => {
    const c = content(['10.244.2.7/32']);
    const change = plan(c, undefined);
    assert.equal(change?.kind, 'replace');
    const script = change?.script ?? '';
    assert.match(script, /chain in_aaaa \{\n {4}ip saddr @pe_1111 return comment "r-1"/);
    // The map element jumps into a chain, so it comes after the table's definition.
    assert.ok(
      script.indexOf('add element inet weft pol_ingress { 10.244.1.5 : jump in_aaaa }') >
        script.indexOf('chain in_aaaa'),
    );
  });

  it('is nothing when the kernel matches', () => {
    const c = content(['10.244.2.7/32']);
    assert.equal(plan(c, withPolicyContent(base, c)), undefined);
  });

  it('adds and deletes only the set elements that changed (a pod event)', () => {
    const have = withPolicyContent(base, content(['10.244.2.7/32', '10.244.3.9/32']));
    const change = plan(content(['10.244.2.7/32', '10.244.4.1/32']), have);
    assert.equal(change?.kind, 'update');
    assert.equal(
      change?.script,
      'delete element inet weft pe_1111 { 10.244.3.9/32 }\nadd element inet weft pe_1111 { 10.244.4.1/32 }\n',
    );
    assert.match((change as { fallback: string }).fallback, /^table inet weft \{\}\ndelete table inet weft/);
  });

  it('moves a pod to a new chain: declare, fill, swap the map element, then drop the old chain', () => {
    const have = withPolicyContent(base, content(['10.244.2.7/32']));
    const change = plan(content(['10.244.2.7/32'], 'in_bbbb'), have);
    assert.deepEqual(change?.script.trim().split('\n'), [
      'add chain inet weft in_bbbb',
      'add rule inet weft in_bbbb ip saddr @pe_1111 return comment "r-1"',
      'add rule inet weft in_bbbb counter name "pol_drop_ingress" drop comment "r-drop"',
      'delete element inet weft pol_ingress { 10.244.1.5 : jump in_aaaa }',
      'add element inet weft pol_ingress { 10.244.1.5 : jump in_bbbb }',
      'flush chain inet weft in_aaaa',
      'delete chain inet weft in_aaaa',
    ]);
  });

  it('while the policy part is pending, keeps what the kernel enforces', () => {
    const have = withPolicyContent(base, content(['10.244.2.7/32']));
    const empty: PolicyContent = { sets: [], chains: [], rules: new Map(), ingress: [], egress: [] };
    assert.equal(plan(empty, have, true), undefined);
    // A base-set change still applies, as an update around the kept policy part…
    const wider = desiredNftTable({
      cluster: ['10.244.0.0/16', '10.250.0.0/16'],
      noMasquerade: ['10.244.0.0/16'],
      networkPolicy: true,
    });
    const change = planNft(wider, baseRules, have, true);
    assert.equal(change?.script, 'add element inet weft cluster4 { 10.250.0.0/16 }\n');
    assert.equal((change as { fallback: unknown }).fallback, undefined);
    // …but a change of the chains, which would need a rewrite, waits for the policy engine.
    const noMasq = desiredNftTable({
      cluster: ['10.244.0.0/16'],
      noMasquerade: undefined,
      networkPolicy: true,
    });
    assert.equal(planNft(noMasq, baseRules, have, true), undefined);
  });
});
