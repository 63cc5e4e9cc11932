/**
 * What the agent keeps of Pods, Namespaces and NetworkPolicies (networking.k8s.io/v1):
 * only the fields enforcement needs; everything else is dropped on arrival.
 */

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];

export type Labels = Readonly<Record<string, string>>;

export interface ContainerPort {
  readonly name: string;
  readonly port: number;
  readonly protocol: Protocol;
}

export interface PolicyPod {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  /** Addresses of both families (status.podIPs; IPv6 in RFC 5952 form); empty until the kubelet reports them. */
  readonly ips: readonly string[];
  /** spec.nodeName; "" while unscheduled. */
  readonly node: string;
  /** Named container ports, for named ports in policies. */
  readonly ports: readonly ContainerPort[];
  /** hostNetwork pods carry the node's address: never selected, never a peer. */
  readonly hostNetwork: boolean;
}

export interface PolicyNamespace {
  readonly name: string;
  readonly labels: Labels;
}

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface LabelSelector {
  readonly matchLabels: Labels;
  readonly matchExpressions: readonly {
    readonly key: string;
    readonly operator: SelectorOperator;
    readonly values: readonly string[];
  }[];
}

export interface IpBlock {
  readonly cidr: string;
  readonly except: readonly string[];
}

/** One `from`/`to` entry: exactly one of the shapes the API allows. */
export interface PolicyPeer {
  readonly podSelector?: LabelSelector;
  readonly namespaceSelector?: LabelSelector;
  readonly ipBlock?: IpBlock;
}

export interface PolicyPort {
  readonly protocol: Protocol;
  /** Number, name of a container port, or undefined = every port of the protocol. */
  readonly port?: number | string;
  readonly endPort?: number;
}

export interface PolicyRule {
  /** undefined or empty = every peer. */
  readonly peers: readonly PolicyPeer[];
  /** empty = every port and protocol. */
  readonly ports: readonly PolicyPort[];
}

export interface NetworkPolicy {
  readonly namespace: string;
  readonly name: string;
  readonly podSelector: LabelSelector;
  /** Effective policyTypes, explicit or inferred as the API does. */
  readonly ingressIsolation: boolean;
  readonly egressIsolation: boolean;
  readonly ingress: readonly PolicyRule[];
  readonly egress: readonly PolicyRule[];
}

/** "namespace/name", how logs, metrics and `weft policy` name a policy or a pod. */
export const refOf = (o: { readonly namespace: string; readonly name: string }): string =>
  `${o.namespace}/${o.name}`;
