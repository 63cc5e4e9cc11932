import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PolicyEngine } from './engine.js';
import { computePolicyReport, type PolicyReport } from './report.js';
import type { PolicyStore } from './store.js';

export const POLICY_PATH = '/api/v1/policy';

export interface PolicyReportSource {
  readonly nodeName: string;
  /** undefined while network policy is off or not started. */
  readonly engine: () => Pick<PolicyEngine, 'synced' | 'selections'> | undefined;
  readonly store: () => Pick<PolicyStore, 'pods' | 'policies'> | undefined;
  /** The status API address of another node's agent, when known. */
  readonly agentAddr: (node: string) => string | undefined;
}

const STATUS: Record<PolicyReport['state'], number> = {
  ok: 200,
  off: 404,
  'not-synced': 503,
  'unknown-pod': 404,
  elsewhere: 409,
};

/** The report for `namespace/pod` as this agent knows it. */
export function answerPolicyQuery(src: PolicyReportSource, namespace: string, name: string): PolicyReport {
  const engine = src.engine();
  const store = src.store();
  if (!engine || !store) return { state: 'off' };
  if (!engine.synced) return { state: 'not-synced' };
  const ref = `${namespace}/${name}`;
  const pod = store.pods.get(ref);
  if (!pod) return { state: 'unknown-pod', pod: ref };
  if (pod.node !== src.nodeName) {
    const addr = pod.node ? src.agentAddr(pod.node) : undefined;
    return { state: 'elsewhere', pod: ref, node: pod.node, ...(addr && { addr }) };
  }
  const selection = engine.selections().find((s) => s.pod === ref);
  return computePolicyReport(pod, selection, store.policies);
}

/** GET /api/v1/policy?namespace=&pod=: 200 with the report, 4xx/503 with `state` saying why not. */
export function policyHandler(src: PolicyReportSource): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const q = new URL(req.url ?? '/', 'http://agent').searchParams;
    const namespace = q.get('namespace') ?? '';
    const pod = q.get('pod') ?? '';
    if (req.method !== 'GET' || !namespace || !pod) {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('GET /api/v1/policy?namespace=<namespace>&pod=<pod>\n');
      return;
    }
    const report = answerPolicyQuery(src, namespace, pod);
    res.writeHead(STATUS[report.state], { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(report));
  };
}
