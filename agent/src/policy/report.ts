import type { PodSelection } from './compile.js';
import type { LabelSelector, NetworkPolicy, PolicyPeer, PolicyPod, PolicyPort, PolicyRule } from './types.js';
import { refOf } from './types.js';

/** One policy's rules for one direction, as text: whom they allow and on which ports. */
export interface PolicyRulesReport {
  readonly policy: string;
  readonly rules: readonly { readonly peers: readonly string[]; readonly ports: readonly string[] }[];
}

export interface DirectionReport {
  /** Some policy selects the pod for this direction: only what the rules allow passes. */
  readonly isolated: boolean;
  readonly chain: string | undefined;
  readonly policies: readonly PolicyRulesReport[];
}

/** The answer of `/api/v1/policy?namespace=&pod=` (and what `weft policy` prints). */
export type PolicyReport =
  | { readonly state: 'off' | 'not-synced' }
  | { readonly state: 'unknown-pod'; readonly pod: string }
  | { readonly state: 'elsewhere'; readonly pod: string; readonly node: string; readonly addr?: string }
  | {
      readonly state: 'ok';
      readonly pod: string;
      readonly node: string;
      readonly ips: readonly string[];
      readonly ingress: DirectionReport;
      readonly egress: DirectionReport;
    };

function selectorText(s: LabelSelector, all: string): string {
  const parts = [
    ...Object.entries(s.matchLabels).map(([k, v]) => `${k}=${v}`),
    ...s.matchExpressions.map((e) =>
      e.operator === 'Exists'
        ? e.key
        : e.operator === 'DoesNotExist'
          ? `!${e.key}`
          : `${e.key} ${e.operator} (${e.values.join(',')})`,
    ),
  ];
  return parts.length === 0 ? all : parts.join(',');
}

export function peerText(p: PolicyPeer): string {
  if (p.ipBlock)
    return `${p.ipBlock.cidr}${p.ipBlock.except.length ? ` except ${p.ipBlock.except.join(',')}` : ''}`;
  const pods = p.podSelector ? `pods ${selectorText(p.podSelector, '(all)')}` : '';
  const nss = p.namespaceSelector ? `namespaces ${selectorText(p.namespaceSelector, '(all)')}` : '';
  if (pods && nss) return `${pods} in ${nss}`;
  return nss || `${pods} (same namespace)`;
}

export function portText(p: PolicyPort): string {
  if (p.port === undefined) return `${p.protocol} (any port)`;
  return `${p.protocol}/${p.port}${p.endPort !== undefined ? `-${p.endPort}` : ''}`;
}

const rulesText = (rules: readonly PolicyRule[]) =>
  rules.map((r) => ({
    peers: r.peers.length === 0 ? ['any peer'] : r.peers.map(peerText),
    ports: r.ports.length === 0 ? ['any port'] : r.ports.map(portText),
  }));

/**
 * Pure: what the policies of the last compilation do to one pod of this node.
 * `selection` is the pod's entry in PolicyEngine.selections() (none: not isolated).
 */
export function computePolicyReport(
  pod: PolicyPod,
  selection: PodSelection | undefined,
  policies: ReadonlyMap<string, NetworkPolicy>,
): PolicyReport {
  const direction = (
    names: readonly string[],
    chain: string | undefined,
    ingress: boolean,
  ): DirectionReport => ({
    isolated: names.length > 0,
    chain,
    policies: names.flatMap((name) => {
      const p = policies.get(name);
      return p ? [{ policy: name, rules: rulesText(ingress ? p.ingress : p.egress) }] : [];
    }),
  });
  return {
    state: 'ok',
    pod: refOf(pod),
    node: pod.node,
    ips: pod.ips,
    ingress: direction(selection?.ingress ?? [], selection?.ingressChain, true),
    egress: direction(selection?.egress ?? [], selection?.egressChain, false),
  };
}
