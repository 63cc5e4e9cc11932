/**
 * The IPv6 half of the policy dispatch in table inet weft (datapath/nft-ruleset.ts,
 * nft-plan.ts, netlink-parse.ts) as the policy compiler uses it: the skeleton
 * with and without IPv6, element-by-element updates of IPv6 elements, and nft's
 * listing of IPv6 set elements read back as the compiler writes them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNftTable } from '../datapath/netlink-parse.js';
import { planNft } from '../datapath/nft-plan.js';
import {
  desiredNftTable,
  type NftInputs,
  nftRuleTexts,
  renderNftReplace,
  withPolicyContent,
} from '../datapath/nft-ruleset.js';
import type { PolicyContent } from '../datapath/state.js';
import { compilePolicies } from './compile.js';
import { parseNetworkPolicy, parsePod } from './parse.js';

const inputs: NftInputs = {
  cluster: ['10.244.0.0/16'],
  noMasquerade: ['10.244.0.0/16'],
  networkPolicy: true,
};
const dual: NftInputs = { ...inputs, policyIpv6: { bridge: 'weft0' } };
const rulesOf = (c: PolicyContent) => new Map([...nftRuleTexts(inputs), ...c.rules]);

const pod = (name: string, app: string, ips: string[], node = 'n1') =>
  parsePod({
    metadata: { namespace: 'default', name, labels: { app } },
    spec: { nodeName: node },
    status: { podIPs: ips.map((ip) => ({ ip })) },
  });
const allowClients = parseNetworkPolicy({
  metadata: { namespace: 'default', name: 'p' },
  spec: {
    podSelector: { matchLabels: { app: 'web' } },
    ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }] }],
  },
});
const compileWith = (pods: ReturnType<typeof pod>[]) =>
  compilePolicies({
    nodeName: 'n1',
    pods,
    namespaces: new Map([['default', { name: 'default', labels: {} }]]),
    policies: [allowClients],
    sctp: true,
  }).content;
const WEB = pod('web', 'web', ['10.244.1.10', 'fd00:10:244:1::a']);
const CLIENT = pod('client', 'client', ['10.244.2.20', 'fd00:10:244:2::14'], 'n2');

describe('IPv6 policy dispatch in the table skeleton', () => {
  it('without IPv6 pods there is no IPv6 map and no ip6 rule', () => {
    const t = desiredNftTable(inputs);
    assert.deepEqual(
      t.maps.map((m) => m.name),
      ['pol_egress', 'pol_ingress'],
    );
    assert.doesNotMatch(renderNftReplace(t, nftRuleTexts(inputs)), /ip6|icmpv6|fe80/);
  });

  it('with IPv6 pods: IPv6 maps, and ND then the ip6 vmap rules after the IPv4 ones in forward and input', () => {
    const t = desiredNftTable(dual);
    assert.deepEqual(
      t.maps.map((m) => `${m.name} ${m.type}`),
      [
        'pol_egress ipv4_addr : verdict',
        'pol_egress6 ipv6_addr : verdict',
        'pol_ingress ipv4_addr : verdict',
        'pol_ingress6 ipv6_addr : verdict',
      ],
    );
    const chain = (name: string) => t.chains.find((c) => c.name === name)?.rules;
    assert.deepEqual(chain('forward'), [
      'weft-policy-reply',
      'weft-policy-related',
      'weft-policy-egress',
      'weft-policy-ingress',
      'weft-policy-nd',
      'weft-policy-linklocal weft0',
      'weft-policy-egress6',
      'weft-policy-ingress6',
      'weft-forward-out',
      'weft-forward-in',
    ]);
    assert.deepEqual(chain('input'), [
      'weft-policy-reply',
      'weft-policy-related',
      'weft-policy-egress',
      'weft-policy-nd',
      'weft-policy-linklocal weft0',
      'weft-policy-egress6',
    ]);
    const script = renderNftReplace(t, nftRuleTexts(dual));
    assert.match(script, /ip6 saddr vmap @pol_egress6 comment "weft-policy-egress6"/);
    assert.match(script, /ip6 daddr vmap @pol_ingress6 comment "weft-policy-ingress6"/);
    assert.match(script, /iifname "weft0" ip6 daddr fe80::\/10 drop comment "weft-policy-linklocal weft0"/);
  });

  it('policy content with IPv6 pods brings the IPv6 dispatch even where the node part left it out (never open)', () => {
    const content = compileWith([WEB, CLIENT]);
    const table = withPolicyContent(desiredNftTable(inputs), content);
    assert.deepEqual(table.maps.find((m) => m.name === 'pol_ingress6')?.elements, content.ingress6);
    assert.deepEqual(table.maps.find((m) => m.name === 'pol_egress6')?.elements, []);
    const forward = table.chains.find((c) => c.name === 'forward')?.rules ?? [];
    assert.ok(forward.includes('weft-policy-ingress6') && forward.includes('weft-policy-nd'));
  });
});

describe('IPv6 policy elements are updated element by element', () => {
  it('a new IPv6 peer and a new isolated pod: add element to pe6_… and pol_ingress6, nothing else', () => {
    const base = desiredNftTable(dual);
    const before = compileWith([WEB, CLIENT]);
    const after = compileWith([
      WEB,
      CLIENT,
      pod('web2', 'web', ['10.244.1.12', 'fd00:10:244:1::c']),
      pod('client2', 'client', ['10.244.3.7', 'fd00:10:244:3::7'], 'n3'),
    ]);
    const change = planNft(
      withPolicyContent(base, after),
      rulesOf(after),
      withPolicyContent(base, before),
      false,
    );
    assert.equal(change?.kind, 'update');
    const lines = (change?.script ?? '').trim().split('\n');
    const pe = after.sets.find((s) => s.type === 'ipv4_addr')?.name;
    const pe6 = after.sets.find((s) => s.type === 'ipv6_addr')?.name;
    const chain = after.chains[0]?.name;
    assert.deepEqual(
      lines.sort(),
      [
        `add element inet weft ${pe} { 10.244.3.7/32 }`,
        `add element inet weft ${pe6} { fd00:10:244:3::7/128 }`,
        `add element inet weft pol_ingress { 10.244.1.12 : jump ${chain} }`,
        `add element inet weft pol_ingress6 { fd00:10:244:1::c : jump ${chain} }`,
      ].sort(),
    );
  });

  it('while the policy part is pending the kernel’s IPv6 elements are kept', () => {
    const base = desiredNftTable(dual);
    const have = withPolicyContent(base, compileWith([WEB, CLIENT]));
    assert.equal(planNft(base, nftRuleTexts(dual), have, true), undefined);
  });
});

describe('nft -j listing of IPv6 set elements', () => {
  it('a single address of an interval set reads back as /128, a prefix as address/length', () => {
    const listed = JSON.stringify({
      nftables: [
        {
          set: {
            name: 'pe6_x',
            type: 'ipv6_addr',
            flags: ['interval'],
            elem: [{ prefix: { addr: '2001:db8::', len: 32 } }, 'fd00:10:244:1::5'],
          },
        },
        { set: { name: 'pe_x', type: 'ipv4_addr', flags: ['interval'], elem: ['10.244.1.5'] } },
        {
          map: {
            name: 'pol_ingress6',
            type: 'ipv6_addr',
            map: 'verdict',
            elem: [['fd00::a', { jump: { target: 'in_x' } }]],
          },
        },
      ],
    });
    const t = parseNftTable(listed);
    assert.deepEqual(
      t.sets.map((s) => s.elements),
      [['2001:db8::/32', 'fd00:10:244:1::5/128'], ['10.244.1.5/32']],
    );
    assert.deepEqual(t.maps[0]?.elements, ['fd00::a : jump in_x']);
  });
});
