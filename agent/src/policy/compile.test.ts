import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePolicies } from './compile.js';
import { parseNamespace, parseNetworkPolicy, parsePod } from './parse.js';
import { PolicyMemo } from './peers.js';
import { evaluate, type Packet } from './test-evaluate.js';
import type { NetworkPolicy, PolicyPod } from './types.js';

const pod = (
  ns: string,
  name: string,
  labels: object,
  ip: string,
  node: string,
  ports: object[] = [],
  extra = {},
) =>
  parsePod({
    metadata: { namespace: ns, name, labels },
    spec: { nodeName: node, containers: [{ ports }], ...extra },
    status: { podIPs: [{ ip }] },
  });

const PODS: PolicyPod[] = [
  pod('default', 'web', { app: 'web' }, '10.244.1.10', 'n1', [
    { name: 'http', containerPort: 80 },
    { name: 'metrics', containerPort: 9090 },
    { name: 'dns', containerPort: 53, protocol: 'UDP' },
  ]),
  pod('default', 'db', { app: 'db' }, '10.244.1.11', 'n1', [{ name: 'pg', containerPort: 5432 }]),
  pod('default', 'client', { app: 'client' }, '10.244.2.20', 'n2'),
  pod('other', 'tool', { app: 'tool' }, '10.244.2.21', 'n2'),
  pod('other', 'client', { app: 'client' }, '10.244.2.22', 'n2', [{ name: 'http', containerPort: 8080 }]),
  pod('kube-system', 'hostnet', { app: 'client' }, '192.168.71.2', 'n2', [], { hostNetwork: true }),
];
const NAMESPACES = new Map(
  [
    { metadata: { name: 'default', labels: { 'kubernetes.io/metadata.name': 'default' } } },
    { metadata: { name: 'other', labels: { 'kubernetes.io/metadata.name': 'other', team: 'ops' } } },
  ].map((n) => [n.metadata.name, parseNamespace(n)]),
);
const IP = {
  web: '10.244.1.10',
  db: '10.244.1.11',
  client: '10.244.2.20',
  tool: '10.244.2.21',
  otherClient: '10.244.2.22',
  outside: '8.8.8.8',
};

let seq = 0;
const policy = (spec: object, ns = 'default'): NetworkPolicy =>
  parseNetworkPolicy({ metadata: { namespace: ns, name: `p${seq++}` }, spec });
const compile = (policies: NetworkPolicy[], opts: { sctp?: boolean; pods?: PolicyPod[] } = {}) =>
  compilePolicies({
    nodeName: 'n1',
    pods: opts.pods ?? PODS,
    namespaces: NAMESPACES,
    policies,
    sctp: opts.sctp ?? true,
  });
const pkt = (src: string, dst: string, port = 80, proto: Packet['proto'] = 'tcp'): Packet => ({
  src,
  dst,
  port,
  proto,
});

/** [from, to, port, proto, expected] rows against one compiled set of policies. */
type Row = [string, string, number, Packet['proto'], 'allow' | 'ingress' | 'egress'];
function assertTable(policies: NetworkPolicy[], rows: Row[]): void {
  const { content } = compile(policies);
  for (const [src, dst, port, proto, want] of rows) {
    assert.equal(evaluate(content, pkt(src, dst, port, proto)), want, `${src} → ${dst}:${port}/${proto}`);
  }
}

const APP = (app: string) => ({ matchLabels: { app } });

describe('compilePolicies: default deny and isolation', () => {
  it('without policies everything passes and nothing is compiled', () => {
    const c = compile([]);
    assert.deepEqual([c.content.ingress, c.content.egress, c.content.chains], [[], [], []]);
    assertTable([], [[IP.client, IP.web, 80, 'tcp', 'allow']]);
  });

  it('deny-all ingress isolates every selected pod for ingress only', () => {
    assertTable(
      [policy({ podSelector: {}, policyTypes: ['Ingress'] })],
      [
        [IP.client, IP.web, 80, 'tcp', 'ingress'],
        [IP.client, IP.db, 5432, 'tcp', 'ingress'],
        [IP.web, IP.client, 80, 'tcp', 'allow'],
        [IP.web, IP.db, 5432, 'tcp', 'ingress'],
      ],
    );
  });

  it('deny-all egress', () => {
    assertTable(
      [policy({ podSelector: {}, policyTypes: ['Egress'] })],
      [
        [IP.web, IP.client, 80, 'tcp', 'egress'],
        [IP.web, IP.outside, 53, 'udp', 'egress'],
        [IP.client, IP.web, 80, 'tcp', 'allow'],
      ],
    );
  });

  it('a policy of another namespace does not select these pods', () => {
    assertTable(
      [policy({ podSelector: {}, policyTypes: ['Ingress'] }, 'other')],
      [[IP.client, IP.web, 80, 'tcp', 'allow']],
    );
  });

  it('pods of other nodes and hostNetwork pods are not enforced here', () => {
    const c = compile([policy({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] })]);
    assert.deepEqual(
      c.selections.map((s) => s.pod),
      ['default/db', 'default/web'],
    );
  });
});

describe('compilePolicies: policyTypes', () => {
  const rows = (ingressDenied: boolean, egressDenied: boolean): Row[] => [
    [IP.client, IP.web, 80, 'tcp', ingressDenied ? 'ingress' : 'allow'],
    [IP.web, IP.client, 80, 'tcp', egressDenied ? 'egress' : 'allow'],
  ];
  const egressToDb = [{ to: [{ podSelector: APP('db') }] }];
  const cases: Array<[string, object, boolean, boolean]> = [
    ['absent, no rules → Ingress', { podSelector: APP('web') }, true, false],
    [
      'absent, ingress rules → Ingress',
      { podSelector: APP('web'), ingress: [{ from: [{ podSelector: APP('db') }] }] },
      true,
      false,
    ],
    [
      'absent, egress rules → Ingress and Egress',
      { podSelector: APP('web'), egress: egressToDb },
      true,
      true,
    ],
    ['absent, empty egress list → Ingress', { podSelector: APP('web'), egress: [] }, true, false],
    [
      'explicit Egress ignores ingress rules',
      { podSelector: APP('web'), policyTypes: ['Egress'], ingress: [{}] },
      false,
      true,
    ],
    [
      'explicit Ingress ignores egress rules',
      { podSelector: APP('web'), policyTypes: ['Ingress'], egress: [{}] },
      true,
      false,
    ],
    [
      'explicit both, no rules → deny both',
      { podSelector: APP('web'), policyTypes: ['Ingress', 'Egress'] },
      true,
      true,
    ],
  ];
  for (const [name, spec, ingress, egress] of cases) {
    it(name, () => assertTable([policy(spec)], rows(ingress, egress)));
  }
});

describe('compilePolicies: peers', () => {
  const web = (from: object[]) => policy({ podSelector: APP('web'), ingress: [{ from }] });
  it('podSelector: pods of the policy namespace only', () => {
    assertTable(
      [web([{ podSelector: APP('client') }])],
      [
        [IP.client, IP.web, 80, 'tcp', 'allow'],
        [IP.otherClient, IP.web, 80, 'tcp', 'ingress'],
        [IP.db, IP.web, 80, 'tcp', 'ingress'],
      ],
    );
  });
  it('namespaceSelector: every pod of the matching namespaces', () => {
    assertTable(
      [web([{ namespaceSelector: { matchLabels: { team: 'ops' } } }])],
      [
        [IP.tool, IP.web, 80, 'tcp', 'allow'],
        [IP.otherClient, IP.web, 80, 'tcp', 'allow'],
        [IP.client, IP.web, 80, 'tcp', 'ingress'],
      ],
    );
  });
  it('empty namespaceSelector: every pod of every namespace, never hostNetwork addresses', () => {
    assertTable(
      [web([{ namespaceSelector: {} }])],
      [
        [IP.tool, IP.web, 80, 'tcp', 'allow'],
        [IP.client, IP.web, 80, 'tcp', 'allow'],
        ['192.168.71.2', IP.web, 80, 'tcp', 'ingress'],
        [IP.outside, IP.web, 80, 'tcp', 'ingress'],
      ],
    );
  });
  it('podSelector and namespaceSelector together: matching pods in matching namespaces', () => {
    assertTable(
      [web([{ podSelector: APP('client'), namespaceSelector: { matchLabels: { team: 'ops' } } }])],
      [
        [IP.otherClient, IP.web, 80, 'tcp', 'allow'],
        [IP.tool, IP.web, 80, 'tcp', 'ingress'],
        [IP.client, IP.web, 80, 'tcp', 'ingress'],
      ],
    );
  });
  it('ipBlock with except', () => {
    assertTable(
      [
        web([
          { ipBlock: { cidr: '10.244.2.0/24', except: ['10.244.2.21/32'] } },
          { ipBlock: { cidr: '8.8.0.0/16' } },
        ]),
      ],
      [
        [IP.client, IP.web, 80, 'tcp', 'allow'],
        [IP.tool, IP.web, 80, 'tcp', 'ingress'],
        [IP.outside, IP.web, 80, 'tcp', 'allow'],
        ['9.9.9.9', IP.web, 80, 'tcp', 'ingress'],
      ],
    );
  });
  it('empty from, or an empty rule, allows everyone', () => {
    assertTable(
      [policy({ podSelector: APP('web'), ingress: [{}] })],
      [[IP.outside, IP.web, 1234, 'udp', 'allow']],
    );
    assertTable(
      [policy({ podSelector: APP('web'), ingress: [{ from: [] }] })],
      [[IP.tool, IP.web, 1, 'tcp', 'allow']],
    );
  });
  it('no ingress rules: the selected pod allows nothing in', () => {
    assertTable(
      [policy({ podSelector: APP('web'), ingress: [] })],
      [[IP.client, IP.web, 80, 'tcp', 'ingress']],
    );
  });
});

describe('compilePolicies: ports', () => {
  const ports = (list: object[]) => policy({ podSelector: {}, ingress: [{ ports: list }] });
  const cases: Array<[string, object[], Row[]]> = [
    [
      'numeric TCP (protocol absent = TCP)',
      [{ port: 80 }],
      [
        [IP.client, IP.web, 80, 'tcp', 'allow'],
        [IP.client, IP.web, 80, 'udp', 'ingress'],
        [IP.client, IP.web, 81, 'tcp', 'ingress'],
      ],
    ],
    [
      'UDP',
      [{ protocol: 'UDP', port: 53 }],
      [
        [IP.client, IP.web, 53, 'udp', 'allow'],
        [IP.client, IP.web, 53, 'tcp', 'ingress'],
      ],
    ],
    [
      'SCTP',
      [{ protocol: 'SCTP', port: 7777 }],
      [
        [IP.client, IP.web, 7777, 'sctp', 'allow'],
        [IP.client, IP.web, 7777, 'tcp', 'ingress'],
      ],
    ],
    [
      'endPort range, inclusive',
      [{ port: 9000, endPort: 9100 }],
      [
        [IP.client, IP.web, 9000, 'tcp', 'allow'],
        [IP.client, IP.web, 9100, 'tcp', 'allow'],
        [IP.client, IP.web, 9101, 'tcp', 'ingress'],
        [IP.client, IP.web, 8999, 'tcp', 'ingress'],
      ],
    ],
    [
      'protocol only: every port of it',
      [{ protocol: 'UDP' }],
      [
        [IP.client, IP.web, 1, 'udp', 'allow'],
        [IP.client, IP.web, 80, 'tcp', 'ingress'],
      ],
    ],
    [
      'named port, resolved per selected pod',
      [{ port: 'http' }, { port: 'pg' }],
      [
        [IP.client, IP.web, 80, 'tcp', 'allow'],
        [IP.client, IP.web, 5432, 'tcp', 'ingress'],
        [IP.client, IP.db, 5432, 'tcp', 'allow'],
        [IP.client, IP.db, 80, 'tcp', 'ingress'],
      ],
    ],
    [
      'named port with its protocol',
      [{ protocol: 'UDP', port: 'dns' }, { port: 'dns' }],
      [
        [IP.client, IP.web, 53, 'udp', 'allow'],
        [IP.client, IP.web, 53, 'tcp', 'ingress'],
      ],
    ],
  ];
  for (const [name, list, rows] of cases) it(name, () => assertTable([ports(list)], rows));

  it('egress to a named port: the destination pod’s port', () => {
    assertTable(
      [policy({ podSelector: APP('web'), policyTypes: ['Egress'], egress: [{ ports: [{ port: 'http' }] }] })],
      [
        [IP.web, IP.otherClient, 8080, 'tcp', 'allow'],
        [IP.web, IP.otherClient, 80, 'tcp', 'egress'],
        [IP.web, IP.client, 80, 'tcp', 'egress'],
        [IP.web, IP.outside, 8080, 'tcp', 'egress'],
      ],
    );
  });
});

describe('compilePolicies: union of policies', () => {
  it('a pod selected by several policies gets what any of them allows', () => {
    assertTable(
      [
        policy({
          podSelector: APP('web'),
          ingress: [{ from: [{ podSelector: APP('client') }], ports: [{ port: 80 }] }],
        }),
        policy({
          podSelector: {},
          ingress: [
            { from: [{ namespaceSelector: { matchLabels: { team: 'ops' } } }], ports: [{ port: 9090 }] },
          ],
        }),
      ],
      [
        [IP.client, IP.web, 80, 'tcp', 'allow'],
        [IP.client, IP.web, 9090, 'tcp', 'ingress'],
        [IP.tool, IP.web, 9090, 'tcp', 'allow'],
        [IP.tool, IP.web, 80, 'tcp', 'ingress'],
        [IP.tool, IP.db, 9090, 'tcp', 'allow'],
        [IP.client, IP.db, 80, 'tcp', 'ingress'],
      ],
    );
  });
  it('egress of the source and ingress of the destination must both allow (same node)', () => {
    assertTable(
      [
        policy({
          podSelector: APP('web'),
          egress: [{ to: [{ podSelector: APP('db') }] }],
          policyTypes: ['Egress'],
        }),
        policy({ podSelector: APP('db'), ingress: [{ from: [{ podSelector: APP('client') }] }] }),
      ],
      [
        [IP.web, IP.db, 5432, 'tcp', 'ingress'],
        [IP.client, IP.db, 5432, 'tcp', 'allow'],
        [IP.web, IP.client, 80, 'tcp', 'egress'],
      ],
    );
  });
});

describe('compilePolicies: shape and bad input', () => {
  it('pods with the same verdict share a chain; per-packet dispatch is one map lookup', () => {
    const c = compile([policy({ podSelector: {}, policyTypes: ['Ingress'] })]);
    assert.equal(c.content.chains.length, 1);
    assert.equal(c.content.ingress.length, 2);
    assert.equal(c.enforcedPolicies, 1);
  });

  it('a matching pod appearing elsewhere changes set elements only, not chains or maps', () => {
    const p = [policy({ podSelector: APP('web'), ingress: [{ from: [{ podSelector: APP('client') }] }] })];
    const before = compile(p);
    const after = compile(p, {
      pods: [...PODS, pod('default', 'client2', { app: 'client' }, '10.244.3.7', 'n3')],
    });
    assert.deepEqual(after.content.chains, before.content.chains);
    assert.deepEqual(after.content.ingress, before.content.ingress);
    assert.deepEqual(
      after.content.sets.map((s) => s.elements),
      [['10.244.2.20/32', '10.244.3.7/32']],
    );
  });

  it('equal peers share one set across namespaces; a bare podSelector is per namespace', () => {
    const everyNs = { from: [{ namespaceSelector: {} }] };
    const c = compile([
      policy({ podSelector: APP('web'), ingress: [everyNs] }),
      policy({ podSelector: APP('db'), ingress: [everyNs] }),
      policy({ podSelector: APP('tool'), ingress: [everyNs] }, 'other'),
      policy({ podSelector: APP('web'), ingress: [{ from: [{ podSelector: APP('client') }] }] }),
      policy({ podSelector: APP('x'), ingress: [{ from: [{ podSelector: APP('client') }] }] }, 'other'),
    ]);
    // One set for the namespaceSelector peers (three policies, two namespaces), one for
    // default's client pods; other's client policy selects no local pod and makes none.
    assert.deepEqual(
      c.content.sets.map((s) => s.elements).sort(),
      [['10.244.1.10/31', '10.244.2.20/31', '10.244.2.22/32'], ['10.244.2.20/32']].sort(),
    );
    const again = compile(
      [
        policy({ podSelector: APP('web'), ingress: [{ from: [{ podSelector: APP('client') }] }] }),
        policy({ podSelector: APP('tool'), ingress: [{ from: [{ podSelector: APP('client') }] }] }, 'other'),
      ],
      { pods: [...PODS, pod('other', 'tool2', { app: 'tool' }, '10.244.1.30', 'n1')] },
    );
    assert.deepEqual(again.content.sets.map((s) => s.elements).sort(), [
      ['10.244.2.20/32'],
      ['10.244.2.22/32'],
    ]);
  });

  it('with a memo kept across compilations the result is exactly that of a fresh compilation', () => {
    const memo = new PolicyMemo();
    let pods = [...PODS];
    let namespaces = NAMESPACES;
    let policies = [
      policy({ podSelector: APP('web'), ingress: [{ from: [{ podSelector: APP('client') }] }] }),
      policy({
        podSelector: {},
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'ops' } } }] }],
      }),
      policy({
        podSelector: APP('db'),
        policyTypes: ['Egress'],
        egress: [{ to: [{ podSelector: APP('web') }], ports: [{ port: 'http' }] }],
      }),
      policy({ podSelector: APP('web'), ingress: [{ from: [{ ipBlock: { cidr: '10.9.0.0/16' } }] }] }),
    ];
    const steps: [string, () => void][] = [
      ['as is', () => {}],
      [
        'a client pod elsewhere changes its label',
        () => {
          pods = pods.map((p) =>
            p.name === 'client' && p.namespace === 'default' ? { ...p, labels: { app: 'x' } } : p,
          );
        },
      ],
      [
        'a pod appears in the other namespace',
        () => {
          pods = [...pods, pod('other', 'new', { app: 'client' }, '10.244.2.40', 'n2')];
        },
      ],
      [
        'the other namespace loses its team label',
        () => {
          namespaces = new Map(
            [...namespaces].map(([k, v]) => [k, k === 'other' ? { ...v, labels: {} } : v]),
          );
        },
      ],
      [
        'an ipBlock changes',
        () => {
          policies = [
            ...policies.slice(0, 3),
            policy({
              podSelector: APP('web'),
              ingress: [{ from: [{ ipBlock: { cidr: '10.8.0.0/16', except: ['10.8.1.0/24'] } }] }],
            }),
          ];
        },
      ],
      [
        'web loses its named port',
        () => {
          pods = pods.map((p) => (p.name === 'web' ? { ...p, ports: [] } : p));
        },
      ],
    ];
    for (const [what, change] of steps) {
      change();
      const inputs = { nodeName: 'n1', pods, namespaces, policies, sctp: true };
      assert.deepEqual(compilePolicies({ ...inputs, memo }), compilePolicies(inputs), what);
    }
  });

  it('a changed verdict is a new chain with a new epoch (established connections are judged again)', () => {
    const a = compile([policy({ podSelector: APP('web'), ingress: [{ ports: [{ port: 80 }] }] })]);
    const b = compile([policy({ podSelector: APP('web'), ingress: [{ ports: [{ port: 81 }] }] })]);
    const [ca, cb] = [a.content.chains[0], b.content.chains[0]];
    assert.notEqual(ca?.name, cb?.name);
    const fast = (c: typeof a, name?: string) => c.content.rules.get(`${name} established`);
    assert.notEqual(fast(a, ca?.name), fast(b, cb?.name));
  });

  it('SCTP on a kernel without it: reported with the policy and field, allows nothing, others still enforced', () => {
    const p = policy({
      podSelector: APP('web'),
      ingress: [{ ports: [{ protocol: 'SCTP', port: 7777 }, { port: 80 }] }],
    });
    const c = compile([p], { sctp: false });
    assert.deepEqual(c.problems, [
      {
        policy: `default/${p.name}`,
        field: 'spec.ingress[0].ports[0].protocol',
        reason: 'SCTP is not supported by this node kernel',
      },
    ]);
    assert.equal(evaluate(c.content, pkt(IP.client, IP.web, 7777, 'sctp')), 'ingress');
    assert.equal(evaluate(c.content, pkt(IP.client, IP.web, 80)), 'allow');
  });

  it('a malformed ipBlock is reported and matches nothing', () => {
    const p = policy({
      podSelector: APP('web'),
      ingress: [{ from: [{ ipBlock: { cidr: 'banana' } }, { podSelector: APP('client') }] }],
    });
    const c = compile([p]);
    assert.equal(c.problems[0]?.field, 'spec.ingress[0].from[0].ipBlock');
    assert.equal(evaluate(c.content, pkt(IP.client, IP.web)), 'allow');
    assert.equal(evaluate(c.content, pkt(IP.outside, IP.web)), 'ingress');
  });

  it('parse rejects what the API would not accept, naming the field', () => {
    const bad = (spec: object) => () => parseNetworkPolicy({ metadata: { namespace: 'd', name: 'x' }, spec });
    assert.throws(bad({ policyTypes: ['Sideways'] }), /spec\.policyTypes\[0\]/);
    assert.throws(
      bad({ ingress: [{ ports: [{ protocol: 'ICMP' }] }] }),
      /spec\.ingress\[0\]\.ports\[0\]\.protocol/,
    );
    assert.throws(bad({ ingress: [{ ports: [{ port: 80, endPort: 70 }] }] }), /endPort/);
    assert.throws(bad({ egress: [{ to: [{}] }] }), /spec\.egress\[0\]\.to\[0\]/);
  });
});
