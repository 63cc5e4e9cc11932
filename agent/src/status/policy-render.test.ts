import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNetworkPolicy } from '../policy/parse.js';
import { answerPolicyQuery } from '../policy/report-route.js';
import type { PolicyPod } from '../policy/types.js';
import { parsePolicyArgs } from './policy-cli.js';
import { renderPolicyReport } from './policy-render.js';

const pod = (name: string, node: string): PolicyPod => ({
  namespace: 'shop',
  name,
  labels: { app: name },
  ips: ['10.244.1.5'],
  node,
  ports: [],
  hostNetwork: false,
});
const allow = parseNetworkPolicy({
  metadata: { namespace: 'shop', name: 'allow-web' },
  spec: {
    podSelector: { matchLabels: { app: 'web' } },
    ingress: [
      {
        from: [
          { podSelector: { matchLabels: { app: 'client' } } },
          { namespaceSelector: { matchLabels: { team: 'ops' } }, podSelector: {} },
          { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } },
        ],
        ports: [{ port: 'http' }, { protocol: 'UDP', port: 5000, endPort: 5010 }],
      },
    ],
  },
});
const source = (synced = true) => ({
  nodeName: 'n1',
  engine: () => ({
    synced,
    selections: () => [
      {
        pod: 'shop/web',
        ip: '10.244.1.5',
        ingress: ['shop/allow-web'],
        egress: [],
        ingressChain: 'in_abc',
        egressChain: undefined,
      },
    ],
  }),
  store: () => ({
    pods: new Map([
      ['shop/web', pod('web', 'n1')],
      ['shop/far', pod('far', 'n2')],
      ['shop/new', pod('new', '')],
    ]),
    policies: new Map([['shop/allow-web', allow]]),
  }),
  agentAddr: (node: string) => (node === 'n2' ? 'http://192.168.1.2:9742' : undefined),
});
const A = 'http://127.0.0.1:9742';

describe('weft policy', () => {
  it('prints the policies that isolate the pod and what each rule allows', () => {
    const text = renderPolicyReport(answerPolicyQuery(source(), 'shop', 'web'), A);
    assert.equal(
      text,
      [
        'Pod:  shop/web on n1   IPs: 10.244.1.5',
        'Ingress: isolated by 1 policy (chain in_abc); allowed, everything else dropped:',
        '  POLICY          RULE  FROM                                                                                                PORTS',
        '  shop/allow-web  0     pods app=client (same namespace); pods (all) in namespaces team=ops; 10.0.0.0/8 except 10.1.0.0/16  TCP/http, UDP/5000-5010',
        'Egress: not isolated (no policy selects the pod): everything is allowed',
        "Replies of allowed connections and traffic from the pod's own node always pass.",
        '',
      ].join('\n'),
    );
  });

  it('says why there is no answer: off, not synced, unknown, elsewhere, unscheduled', () => {
    const off = { ...source(), engine: () => undefined };
    assert.match(renderPolicyReport(answerPolicyQuery(off, 'shop', 'web'), A), /network policy is off/);
    assert.match(renderPolicyReport(answerPolicyQuery(source(false), 'shop', 'web'), A), /not synced/);
    assert.match(
      renderPolicyReport(answerPolicyQuery(source(), 'shop', 'nope'), A),
      /does not know pod shop\/nope/,
    );
    assert.deepEqual(answerPolicyQuery(source(), 'shop', 'far'), {
      state: 'elsewhere',
      pod: 'shop/far',
      node: 'n2',
      addr: 'http://192.168.1.2:9742',
    });
    assert.match(renderPolicyReport(answerPolicyQuery(source(), 'shop', 'new'), A), /on no node/);
  });

  it('parses its arguments', () => {
    assert.deepEqual(parsePolicyArgs(['policy', 'shop/web', '--addr', '10.0.0.1:9742']), {
      namespace: 'shop',
      pod: 'web',
      json: false,
      addr: 'http://10.0.0.1:9742',
    });
    assert.throws(() => parsePolicyArgs(['policy', 'web']), /usage: weft policy/);
    assert.throws(() => parsePolicyArgs(['policy', 'shop/web', '--frob']), /usage/);
  });
});
