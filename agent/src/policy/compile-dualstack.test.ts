import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePolicies } from './compile.js';
import { computeOverlaidPods } from './overlay.js';
import { parseNamespace, parseNetworkPolicy, parsePod } from './parse.js';
import { PolicyMemo } from './peers.js';
import { evaluate, type Packet } from './test-evaluate.js';
import type { NetworkPolicy, PolicyPod } from './types.js';

/** A pod with the addresses of `ips` in status.podIPs (IPv4 first, as the kubelet lists them). */
const pod = (ns: string, name: string, app: string, ips: string[], node: string, ports: object[] = []) =>
  parsePod({
    metadata: { namespace: ns, name, labels: { app } },
    spec: { nodeName: node, containers: [{ ports }] },
    status: { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) },
  });

const V4 = { web: '10.244.1.10', db: '10.244.1.11', client: '10.244.2.20', tool: '10.244.2.21' };
const V6 = {
  web: 'fd00:10:244:1::a',
  db: 'fd00:10:244:1::b',
  client: 'fd00:10:244:2::14',
  tool: 'fd00:10:244:2::15',
  outside: '2001:db8:1::1',
};
const PODS: PolicyPod[] = [
  pod('default', 'web', 'web', [V4.web, V6.web], 'n1', [{ name: 'http', containerPort: 80 }]),
  pod('default', 'db', 'db', [V4.db, V6.db], 'n1'),
  pod('default', 'client', 'client', [V4.client, V6.client], 'n2', [{ name: 'http', containerPort: 8080 }]),
  pod('default', 'tool', 'tool', [V4.tool, V6.tool], 'n2'),
];
const NAMESPACES = new Map([['default', parseNamespace({ metadata: { name: 'default' } })]]);

let seq = 0;
const policy = (spec: object): NetworkPolicy =>
  parseNetworkPolicy({ metadata: { namespace: 'default', name: `ds${seq++}` }, spec });
const compile = (policies: NetworkPolicy[], pods = PODS) =>
  compilePolicies({ nodeName: 'n1', pods, namespaces: NAMESPACES, policies, sctp: true });
const APP = (app: string) => ({ matchLabels: { app } });
/** Sets in family order (by name, pe6_… sorts before pe_…). */
const byType = <T extends { type: string }>(sets: readonly T[]) =>
  [...sets].sort((a, b) => (a.type < b.type ? -1 : 1));

type Row = [string, string, number, 'allow' | 'ingress' | 'egress'];
function assertTable(policies: NetworkPolicy[], rows: Row[], pods = PODS): void {
  const { content } = compile(policies, pods);
  for (const [src, dst, port, want] of rows) {
    const p: Packet = { src, dst, port, proto: 'tcp' };
    assert.equal(evaluate(content, p), want, `${src} → ${dst}:${port}`);
  }
}

describe('parsePod: addresses of both families', () => {
  it('keeps status.podIPs of both families in order, IPv6 in RFC 5952 form', () => {
    const p = pod('d', 'x', 'x', ['10.244.1.5', 'FD00:10:244:1:0:0:0:5'], 'n1');
    assert.deepEqual(p.ips, ['10.244.1.5', 'fd00:10:244:1::5']);
  });
  it('refuses IPv4-mapped and zone-id forms; falls back to status.podIP when podIPs has nothing usable', () => {
    const p = parsePod({
      metadata: { namespace: 'd', name: 'x' },
      status: { podIP: 'fd00::7', podIPs: [{ ip: '::ffff:10.0.0.1' }, { ip: 'fe80::1%eth0' }] },
    });
    assert.deepEqual(p.ips, ['fd00::7']);
  });
  it('the CNI overlay compares equal with the watch whatever the IPv6 spelling', () => {
    const [web] = computeOverlaidPods(
      [PODS[0] as PolicyPod],
      [{ namespace: 'default', name: 'web', ips: [V4.web, 'fd00:10:244:1:0::a'] }],
      'n1',
    );
    assert.deepEqual(web?.ips, [V4.web, V6.web]);
  });
});

describe('compilePolicies: IPv4-only clusters are compiled as before', () => {
  it('no ip6 rule, no IPv6 set and no IPv6 map element without IPv6 pods', () => {
    const v4only = PODS.map((p) => ({ ...p, ips: p.ips.slice(0, 1) }));
    const c = compile(
      [policy({ podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '2001:db8::/32' } }] }] })],
      v4only,
    );
    assert.ok(![...c.content.rules.values()].some((t) => t.includes('ip6')));
    assert.deepEqual(
      c.content.sets.map((s) => s.type),
      ['ipv4_addr'],
    );
    assert.deepEqual([c.content.ingress6, c.content.egress6], [[], []]);
  });
});

describe('compilePolicies: dual-stack pods', () => {
  it('default deny ingress: both addresses of each selected pod jump to one shared chain', () => {
    const c = compile([policy({ podSelector: {}, policyTypes: ['Ingress'] })]);
    assert.equal(c.content.chains.length, 1);
    const chain = c.content.chains[0]?.name;
    assert.deepEqual(c.content.ingress, [`${V4.web} : jump ${chain}`, `${V4.db} : jump ${chain}`].sort());
    assert.deepEqual(c.content.ingress6, [`${V6.web} : jump ${chain}`, `${V6.db} : jump ${chain}`].sort());
    assertTable(
      [policy({ podSelector: {}, policyTypes: ['Ingress'] })],
      [
        [V4.client, V4.web, 80, 'ingress'],
        [V6.client, V6.web, 80, 'ingress'],
        [V6.web, V6.client, 80, 'allow'],
      ],
    );
  });

  it('allow from a podSelector admits both families of the selected pod, neither of another', () => {
    const p = policy({ podSelector: APP('web'), ingress: [{ from: [{ podSelector: APP('client') }] }] });
    assertTable(
      [p],
      [
        [V4.client, V4.web, 80, 'allow'],
        [V6.client, V6.web, 80, 'allow'],
        [V4.tool, V4.web, 80, 'ingress'],
        [V6.tool, V6.web, 80, 'ingress'],
      ],
    );
    const sets = byType(compile([p]).content.sets);
    assert.deepEqual(
      sets.map((s) => [s.name.split('_')[0], s.type, s.elements]),
      [
        ['pe', 'ipv4_addr', [`${V4.client}/32`]],
        ['pe6', 'ipv6_addr', [`${V6.client}/128`]],
      ],
    );
    // The two sets name the same peer list: one hash, a prefix per family.
    assert.equal(sets[0]?.name.slice(3), sets[1]?.name.slice(4));
  });

  it('an IPv6 ipBlock with except admits only its range; an IPv4 block never matches IPv6 and vice versa', () => {
    const p = policy({
      podSelector: APP('web'),
      ingress: [
        {
          from: [
            { ipBlock: { cidr: '2001:db8::/32', except: ['2001:db8:1::/48', '10.0.0.0/8'] } },
            { ipBlock: { cidr: '10.244.2.0/24', except: ['fd00::/8'] } },
          ],
        },
      ],
    });
    assertTable(
      [p],
      [
        ['2001:db8:2::1', V6.web, 80, 'allow'],
        [V6.outside, V6.web, 80, 'ingress'],
        ['2001:db9::1', V6.web, 80, 'ingress'],
        [V6.client, V6.web, 80, 'ingress'],
        [V4.client, V4.web, 80, 'allow'],
        ['10.1.1.1', V4.web, 80, 'ingress'],
      ],
    );
    const types = Object.fromEntries(compile([p]).content.sets.map((s) => [s.type, s.elements]));
    assert.deepEqual(types.ipv4_addr, ['10.244.2.0/24']);
    assert.equal(types.ipv6_addr?.length, 16, '2001:db8::/32 minus one /48: sixteen prefixes');
    assert.ok(types.ipv6_addr?.includes('2001:db8::/48') && types.ipv6_addr.includes('2001:db8:8000::/33'));
    assert.ok(!types.ipv6_addr?.some((e) => e.startsWith('2001:db8:1::')));
  });

  it('an ipBlock of everything of one family: 0.0.0.0/0 admits no IPv6, ::/0 no IPv4', () => {
    const only = (cidr: string) =>
      policy({ podSelector: APP('web'), ingress: [{ from: [{ ipBlock: { cidr } }] }] });
    assertTable(
      [only('0.0.0.0/0')],
      [
        [V4.tool, V4.web, 80, 'allow'],
        [V6.tool, V6.web, 80, 'ingress'],
      ],
    );
    assertTable(
      [only('::/0')],
      [
        [V4.tool, V4.web, 80, 'ingress'],
        [V6.tool, V6.web, 80, 'allow'],
      ],
    );
  });

  it('a malformed IPv6 ipBlock is reported and matches nothing', () => {
    const p = policy({
      podSelector: APP('web'),
      ingress: [{ from: [{ ipBlock: { cidr: 'fd00::/129' } }, { podSelector: APP('client') }] }],
    });
    const c = compile([p]);
    assert.deepEqual(
      c.problems.map((x) => x.field),
      ['spec.ingress[0].from[0].ipBlock'],
    );
    assert.equal(evaluate(c.content, { src: V6.tool, dst: V6.web, port: 1, proto: 'tcp' }), 'ingress');
    assert.equal(evaluate(c.content, { src: V6.client, dst: V6.web, port: 1, proto: 'tcp' }), 'allow');
  });

  it('ports and named ports apply to both families; a rule without peers is one rule for both', () => {
    const p = policy({ podSelector: APP('web'), ingress: [{ ports: [{ port: 'http' }] }] });
    assertTable(
      [p],
      [
        [V4.tool, V4.web, 80, 'allow'],
        [V6.tool, V6.web, 80, 'allow'],
        [V6.tool, V6.web, 81, 'ingress'],
      ],
    );
    const chain = compile([p]).content.chains[0];
    assert.equal(chain?.rules.length, 3, 'established, one allow, drop');
  });

  it('egress: to a podSelector and to a named port of the destination, for each family', () => {
    const p = policy({
      podSelector: APP('web'),
      policyTypes: ['Egress'],
      egress: [
        { to: [{ podSelector: APP('db') }] },
        { to: [{ podSelector: APP('client') }], ports: [{ port: 'http' }] },
      ],
    });
    assertTable(
      [p],
      [
        [V4.web, V4.db, 5432, 'allow'],
        [V6.web, V6.db, 5432, 'allow'],
        [V6.web, V6.client, 8080, 'allow'],
        [V6.web, V6.client, 80, 'egress'],
        [V6.web, V6.tool, 8080, 'egress'],
        [V6.web, V6.outside, 53, 'egress'],
      ],
    );
    const c = compile([p]);
    assert.deepEqual(c.content.egress6, [`${V6.web} : jump ${c.content.chains[0]?.name}`]);
    const named = c.content.sets.find((s) => s.name.startsWith('pn6_'));
    assert.deepEqual(named && [named.type, named.elements], [
      'ipv6_addr . inet_proto . inet_service',
      [`${V6.client} . tcp . 8080`],
    ]);
  });

  it('a matching pod appearing elsewhere changes set elements of both families only', () => {
    const p = [policy({ podSelector: APP('web'), ingress: [{ from: [{ podSelector: APP('client') }] }] })];
    const before = compile(p);
    const after = compile(p, [
      ...PODS,
      pod('default', 'c2', 'client', ['10.244.3.7', 'fd00:10:244:3::7'], 'n3'),
    ]);
    assert.deepEqual(after.content.chains, before.content.chains);
    assert.deepEqual(
      [after.content.ingress, after.content.ingress6],
      [before.content.ingress, before.content.ingress6],
    );
    assert.deepEqual(
      byType(after.content.sets).map((s) => s.elements),
      [
        [`${V4.client}/32`, '10.244.3.7/32'],
        [`${V6.client}/128`, 'fd00:10:244:3::7/128'],
      ],
    );
  });

  it('a changed verdict is a new chain for both addresses (established connections of both are judged again)', () => {
    const a = compile([policy({ podSelector: APP('web'), ingress: [{ ports: [{ port: 80 }] }] })]);
    const b = compile([policy({ podSelector: APP('web'), ingress: [{ ports: [{ port: 81 }] }] })]);
    const chainOf = (c: typeof a, list: 'ingress' | 'ingress6') =>
      (c.content[list] ?? [])[0]?.split(' : jump ')[1];
    assert.equal(chainOf(a, 'ingress'), chainOf(a, 'ingress6'));
    assert.equal(chainOf(b, 'ingress'), chainOf(b, 'ingress6'));
    assert.notEqual(chainOf(a, 'ingress6'), chainOf(b, 'ingress6'));
  });

  it('with a memo the result is that of a fresh compilation, through IPv6 changes', () => {
    const memo = new PolicyMemo();
    let pods = [...PODS];
    const policies = [
      policy({ podSelector: APP('web'), ingress: [{ from: [{ podSelector: APP('client') }] }] }),
      policy({
        podSelector: APP('db'),
        ingress: [{ from: [{ ipBlock: { cidr: 'fd00::/16', except: ['fd00:10::/32'] } }] }],
      }),
      policy({ podSelector: APP('web'), policyTypes: ['Egress'], egress: [{ ports: [{ port: 'http' }] }] }),
    ];
    const steps: [string, () => void][] = [
      ['as is', () => {}],
      [
        'a client loses its IPv6 address',
        () => (pods = pods.map((p) => (p.name === 'client' ? { ...p, ips: [V4.client] } : p))),
      ],
      [
        'an IPv6-only client appears',
        () => (pods = [...pods, pod('default', 'c6', 'client', ['fd00:10:244:2::99'], 'n2')]),
      ],
    ];
    for (const [what, change] of steps) {
      change();
      const inputs = { nodeName: 'n1', pods, namespaces: NAMESPACES, policies, sctp: true };
      assert.deepEqual(compilePolicies({ ...inputs, memo }), compilePolicies(inputs), what);
    }
  });

  it('a pod with only an IPv6 address is isolated through the IPv6 map alone', () => {
    const pods = [...PODS, pod('default', 'v6', 'web', ['fd00:10:244:1::99'], 'n1')];
    const c = compile([policy({ podSelector: APP('web'), policyTypes: ['Ingress'] })], pods);
    assert.ok(c.content.ingress6?.some((e) => e.startsWith('fd00:10:244:1::99 : jump ')));
    assert.ok(!c.content.ingress.some((e) => e.startsWith('fd00')));
  });
});
