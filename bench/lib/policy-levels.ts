/**
 * The cluster the policy datapath benchmark compiles for (pure): the workload
 * of lib/policy-workload.ts (namespaces, a few thousand pods over 23 nodes of
 * which n1 and n2 are the benchmark's) plus four real pods in namespace
 * bench-pdp, and the policies of each level. See bench/policy-datapath.ts for
 * why this shape.
 */
import { parseNamespace, parseNetworkPolicy, parsePod } from '../../agent/src/policy/parse.js';
import type { NetworkPolicy, PolicyNamespace, PolicyPod } from '../../agent/src/policy/types.js';
import {
  namespaceObject,
  podObject,
  podStatus,
  policyObject,
  targetedPolicyObject,
  type WorkloadSizes,
} from './policy-workload.js';

export const MEASURED_NS = 'bench-pdp';

/**
 * The pods that carry traffic: the client cli (n1) and server srv (n2) are
 * isolated both ways by every targeted policy; dny (n1) and opn (n2) are
 * selected by none and only probe that isolation is real.
 */
export const MEASURED = {
  cli: { node: 'n1', ip: '10.244.1.10', app: 'pdp-client', measured: true },
  dny: { node: 'n1', ip: '10.244.1.11', app: 'pdp-denied', measured: false },
  srv: { node: 'n2', ip: '10.244.2.10', app: 'pdp-server', measured: true },
  opn: { node: 'n2', ip: '10.244.2.11', app: 'pdp-open', measured: false },
} as const;
export type MeasuredPod = keyof typeof MEASURED;

/** The label every targeted policy selects (cli and srv carry it). */
const MEASURED_LABELS = { 'weft.bench/measured': 'true' } as const;

/** TCP ports the measured traffic uses; the allow policies open exactly these. */
export const PORTS = { iperf: 5201, sockperf: 11111, echo: 7000 } as const;

/**
 * 12 namespaces × 250 pods over 23 nodes: the placement of podObject puts
 * pods of every (namespace, app) on every node, so each workload policy
 * selects pods on n1 and on n2 (about 130 pods per node; 23 is prime to the
 * placement's strides), and its peer sets hold pods of the other nodes.
 */
export const WORKLOAD: WorkloadSizes = {
  namespaces: 12,
  pods: 3000,
  policies: 0,
  nodes: ['n1', 'n2', ...Array.from({ length: 21 }, (_, i) => `f${String(i + 1).padStart(2, '0')}`)],
};

export interface PolicyCluster {
  readonly pods: readonly PolicyPod[];
  readonly namespaces: ReadonlyMap<string, PolicyNamespace>;
}

/** Pods and namespaces: the same at every level. */
export function policyCluster(sizes: WorkloadSizes = WORKLOAD): PolicyCluster {
  const namespaces = new Map<string, PolicyNamespace>();
  for (let i = 0; i < sizes.namespaces; i++) {
    const ns = parseNamespace(namespaceObject(i));
    namespaces.set(ns.name, ns);
  }
  namespaces.set(
    MEASURED_NS,
    parseNamespace({
      metadata: { name: MEASURED_NS, labels: { 'kubernetes.io/metadata.name': MEASURED_NS, team: 't0' } },
    }),
  );
  const pods = Array.from({ length: sizes.pods }, (_, i) =>
    parsePod({ ...podObject(i, sizes), ...podStatus(i) }),
  );
  for (const [name, m] of Object.entries(MEASURED)) {
    pods.push(
      parsePod({
        metadata: {
          namespace: MEASURED_NS,
          name,
          labels: { app: m.app, ...(m.measured ? MEASURED_LABELS : {}) },
        },
        spec: {
          nodeName: m.node,
          containers: [
            {
              ports: [
                { name: 'http', containerPort: 8080, protocol: 'TCP' },
                { name: 'dns', containerPort: 5353, protocol: 'UDP' },
              ],
            },
          ],
        },
        status: { phase: 'Running', podIPs: [{ ip: m.ip }] },
      }),
    );
  }
  return { pods, namespaces };
}

/** How a level's policies divide: targeted at cli+srv, the two allows, the rest over the workload. */
export function levelShape(level: number): { targeted: number; allows: number; workload: number } {
  if (level === 0) return { targeted: 0, allows: 0, workload: 0 };
  if (!Number.isInteger(level) || level < 10)
    throw new RangeError(`policy level must be 0 or ≥ 10, got ${level}`);
  const targeted = Math.floor(level / 10);
  return { targeted, allows: 2, workload: level - targeted - 2 };
}

const ALLOWED_PORTS = Object.values(PORTS).map((port) => ({ protocol: 'TCP', port }));

/**
 * The policies of one level: targeted ones (the workload's four shapes, each
 * isolating cli and srv, none allowing the measured ports), two allows that
 * sort last (client → server on PORTS, egress and ingress), and workload
 * policies over the other pods.
 */
export function levelPolicies(level: number, sizes: WorkloadSizes = WORKLOAD): NetworkPolicy[] {
  const shape = levelShape(level);
  const target = { namespace: MEASURED_NS, labels: MEASURED_LABELS };
  const objects: unknown[] = [];
  for (let k = 0; k < shape.targeted; k++) objects.push(targetedPolicyObject(k, sizes, target));
  if (shape.allows > 0) {
    const app = (name: MeasuredPod) => ({ podSelector: { matchLabels: { app: MEASURED[name].app } } });
    const allow = (name: string, spec: object) => ({
      metadata: { namespace: MEASURED_NS, name },
      spec: { podSelector: { matchLabels: MEASURED_LABELS }, ...spec },
    });
    objects.push(
      allow('np-zz-allow-egress', {
        policyTypes: ['Egress'],
        egress: [{ to: [app('srv')], ports: ALLOWED_PORTS }],
      }),
      allow('np-zz-allow-ingress', {
        policyTypes: ['Ingress'],
        ingress: [{ from: [app('cli')], ports: ALLOWED_PORTS }],
      }),
    );
  }
  for (let k = 0; k < shape.workload; k++) objects.push(policyObject(k, sizes));
  return objects.map(parseNetworkPolicy);
}
