import type { DirectionReport, PolicyReport } from '../policy/report.js';
import { table } from './render.js';

function direction(name: 'Ingress' | 'Egress', d: DirectionReport): string[] {
  if (!d.isolated) return [`${name}: not isolated (no policy selects the pod): everything is allowed`];
  const rows = d.policies.flatMap((p) =>
    p.rules.length === 0
      ? [[p.policy, '-', '(no rules: nothing)', '']]
      : p.rules.map((r, i) => [p.policy, String(i), r.peers.join('; '), r.ports.join(', ')]),
  );
  const peer = name === 'Ingress' ? 'FROM' : 'TO';
  return [
    `${name}: isolated by ${d.policies.length} ${d.policies.length === 1 ? 'policy' : 'policies'} (chain ${d.chain ?? '-'}); allowed, everything else dropped:`,
    ...table(['POLICY', 'RULE', peer, 'PORTS'], rows).map((l) => `  ${l}`),
  ];
}

/** The text of `weft policy` for an answer, or the reason there is none; pure. */
export function renderPolicyReport(r: PolicyReport, addr: string): string {
  switch (r.state) {
    case 'off':
      return `network policy is off on the agent at ${addr} (net-conf networkPolicy: false)\n`;
    case 'not-synced':
      return `the agent at ${addr} has not synced network policy yet (it is listing pods, namespaces and policies)\n`;
    case 'unknown-pod':
      return `the agent at ${addr} does not know pod ${r.pod}\n`;
    case 'elsewhere':
      return r.node === ''
        ? `pod ${r.pod} is on no node (not scheduled yet)\n`
        : `pod ${r.pod} runs on node ${r.node}, whose agent address is not known here; use --addr\n`;
    case 'ok':
      return `${[
        `Pod:  ${r.pod} on ${r.node}   IPs: ${r.ips.length > 0 ? r.ips.join(', ') : '-'}`,
        ...direction('Ingress', r.ingress),
        ...direction('Egress', r.egress),
        "Replies of allowed connections and traffic from the pod's own node always pass.",
      ].join('\n')}\n`;
  }
}
