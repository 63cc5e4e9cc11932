/**
 * A NetworkPolicy workload for the policy benchmarks, as API objects (what the
 * API server stores and the agent's watchers receive): namespaces with team
 * labels, pods spread over nodes with app/role labels and a named port, and
 * policies of the shapes operators write — pod selectors, namespace + pod
 * selectors, ipBlocks with except, named ports, port ranges, egress and ingress.
 * Deterministic: the same sizes give the same objects.
 */

export interface WorkloadSizes {
  readonly namespaces: number;
  readonly pods: number;
  readonly policies: number;
  /** Node names pods are spread over (evenly, mixed across namespaces and labels). */
  readonly nodes: readonly string[];
}

export const APPS = 10;
export const ROLES = 4;
export const TEAMS = 5;

/** Fake nodes never become Ready: their pods tolerate that forever, or the taint manager evicts them. */
export const FAKE_NODE_TOLERATIONS = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
] as const;

export const nsName = (i: number) => `bench-${String(i).padStart(3, '0')}`;

/** Pod i's address: 10.200.0.0/14, outside every real pod CIDR of the bench clusters. */
export function podIp(i: number): string {
  return `10.${200 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
}

export function namespaceObject(i: number) {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: nsName(i),
      labels: {
        'kubernetes.io/metadata.name': nsName(i),
        team: `t${i % TEAMS}`,
        'weft.bench/policy': 'true',
      },
    },
  };
}

/**
 * Pod i: the j-th of namespace i % namespaces, app a<j % 10>, role r<j/10 % 4>, on a
 * node picked so that every node holds pods of many namespaces and apps.
 * Without status (the API sets that through the status subresource).
 */
export function podObject(i: number, sizes: WorkloadSizes) {
  const ns = i % sizes.namespaces;
  const j = Math.floor(i / sizes.namespaces);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      namespace: nsName(ns),
      name: `p-${String(i).padStart(5, '0')}`,
      labels: { app: `a${j % APPS}`, role: `r${Math.floor(j / 10) % ROLES}`, 'weft.bench/policy': 'true' },
    },
    spec: {
      nodeName: sizes.nodes[(j * 37 + ns * 11) % sizes.nodes.length],
      tolerations: [...FAKE_NODE_TOLERATIONS],
      containers: [
        {
          name: 'c',
          image: 'registry.invalid/bench:0',
          ports: [
            { name: 'http', containerPort: 8080, protocol: 'TCP' },
            { name: 'dns', containerPort: 5353, protocol: 'UDP' },
          ],
        },
      ],
    },
  };
}

export function podStatus(i: number) {
  return { status: { phase: 'Running', podIP: podIp(i), podIPs: [{ ip: podIp(i) }] } };
}

/** Policy k: the m-th of namespace k % namespaces, selecting app a<m % 10>, one of four shapes by m % 4. */
export function policyObject(k: number, sizes: WorkloadSizes) {
  const m = Math.floor(k / sizes.namespaces);
  const app = { matchLabels: { app: `a${m % APPS}` } };
  const role = (n: number) => ({ matchLabels: { role: `r${n % ROLES}` } });
  const shapes = [
    { policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: role(m) }], ports: [{ port: 'http' }] }] },
    {
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [{ namespaceSelector: { matchLabels: { team: `t${m % TEAMS}` } }, podSelector: role(m + 1) }],
          ports: [{ protocol: 'TCP', port: 8000, endPort: 8100 }],
        },
      ],
    },
    {
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{ ipBlock: { cidr: `172.16.${k & 255}.0/24`, except: [`172.16.${k & 255}.128/26`] } }],
          ports: [{ protocol: 'UDP', port: 53 }],
        },
        { to: [{ podSelector: role(m + 2) }], ports: [{ port: 'dns', protocol: 'UDP' }] },
      ],
    },
    {
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ ipBlock: { cidr: `192.168.${k & 255}.0/24` } }] }],
      egress: [{ to: [{ namespaceSelector: {} }], ports: [{ protocol: 'TCP', port: 443 }] }],
    },
  ];
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { namespace: nsName(k % sizes.namespaces), name: `np-${String(k).padStart(4, '0')}` },
    spec: { podSelector: app, ...shapes[m % shapes.length] },
  };
}

/** The pods a targeted policy selects: their namespace and the labels its podSelector matches. */
export interface PolicyTarget {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * Policy k's rules with the shape sequence of policyObject (shape k % 4, peers
 * varying with k), but in `target.namespace` and selecting the target's pods:
 * many of these make the union of policies one pod is isolated by.
 */
export function targetedPolicyObject(k: number, sizes: WorkloadSizes, target: PolicyTarget) {
  // Index k·namespaces is the k-th policy of namespace 0: shape and peers follow k.
  const p = policyObject(k * sizes.namespaces, sizes);
  return {
    ...p,
    metadata: { namespace: target.namespace, name: `np-t-${String(k).padStart(4, '0')}` },
    spec: { ...p.spec, podSelector: { matchLabels: { ...target.labels } } },
  };
}
