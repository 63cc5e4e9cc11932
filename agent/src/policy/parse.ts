import { isIpv4 } from '../../../common/cidr.js';
import { WeftError } from '../../../common/errors.js';
import { formatIp, parseIpOrReason } from '../../../common/ip.js';
import {
  type ContainerPort,
  type LabelSelector,
  type Labels,
  type NetworkPolicy,
  type PolicyNamespace,
  type PolicyPeer,
  type PolicyPod,
  type PolicyPort,
  type PolicyRule,
  PROTOCOLS,
  type Protocol,
  type SelectorOperator,
} from './types.js';

/** A Pod, Namespace or NetworkPolicy that cannot be used as it is: names the object and the field. */
export class PolicyParseError extends WeftError {
  readonly object: string;
  readonly field: string;
  constructor(object: string, field: string, reason: string) {
    super('EPOLICY', `${object}: invalid ${field}: ${reason}`);
    this.object = object;
    this.field = field;
  }
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The API object's metadata.namespace/name (for error messages before anything else is read). */
export function objectRef(o: unknown): string {
  const m = obj(obj(o).metadata);
  return str(m.namespace) ? `${str(m.namespace)}/${str(m.name)}` : str(m.name) || '<unnamed>';
}

function parseLabels(v: unknown): Labels {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(obj(v))) if (typeof val === 'string') out[k] = val;
  return out;
}

function parseProtocol(ref: string, field: string, v: unknown): Protocol {
  if (v === undefined) return 'TCP';
  if (!PROTOCOLS.includes(v as Protocol))
    throw new PolicyParseError(ref, field, `unknown protocol ${JSON.stringify(v)}`);
  return v as Protocol;
}

/**
 * A pod's address as the kernel's tables list it, or undefined when it is none:
 * IPv4 as written (dotted quad), IPv6 in RFC 5952 form (how nft prints it, so
 * map elements compare equal); IPv4-mapped and zone-id forms are refused.
 */
export function canonicalPodIp(text: string): string | undefined {
  if (isIpv4(text)) return text;
  if (!text.includes(':')) return undefined;
  const ip = parseIpOrReason(text);
  return typeof ip === 'string' ? undefined : formatIp(ip);
}

/** Pod addresses of both families (status.podIPs, else status.podIP), canonical, in the API's order. */
function podIps(status: Json): string[] {
  const valid = (texts: string[]) => [
    ...new Set(texts.map(canonicalPodIp).filter((ip): ip is string => ip !== undefined)),
  ];
  const listed = valid(list(status.podIPs).map((p) => str(obj(p).ip)));
  return listed.length > 0 ? listed : valid([str(status.podIP)]);
}

/** Pod → what policy needs: labels, addresses of both families, node, named container ports. */
export function parsePod(o: unknown): PolicyPod {
  const ref = objectRef(o);
  const meta = obj(obj(o).metadata);
  const spec = obj(obj(o).spec);
  const status = obj(obj(o).status);
  const ips = podIps(status);
  const ports: ContainerPort[] = [];
  for (const c of [...list(spec.initContainers), ...list(spec.containers)]) {
    for (const p of list(obj(c).ports)) {
      const port = obj(p);
      if (!str(port.name) || typeof port.containerPort !== 'number') continue;
      ports.push({
        name: str(port.name),
        port: port.containerPort,
        protocol: parseProtocol(ref, 'spec.containers[].ports[].protocol', port.protocol),
      });
    }
  }
  const namespace = str(meta.namespace);
  const name = str(meta.name);
  if (!namespace || !name) throw new PolicyParseError(ref, 'metadata', 'namespace and name are required');
  // A finished pod's address may already belong to another pod.
  const done = status.phase === 'Succeeded' || status.phase === 'Failed';
  return {
    namespace,
    name,
    labels: parseLabels(meta.labels),
    ips: done ? [] : ips,
    node: str(spec.nodeName),
    ports,
    hostNetwork: spec.hostNetwork === true,
  };
}

export function parseNamespace(o: unknown): PolicyNamespace {
  const meta = obj(obj(o).metadata);
  const name = str(meta.name);
  if (!name) throw new PolicyParseError(objectRef(o), 'metadata.name', 'required');
  return { name, labels: parseLabels(meta.labels) };
}

const OPERATORS: readonly SelectorOperator[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

function parseSelector(ref: string, field: string, v: unknown): LabelSelector {
  const s = obj(v);
  const matchExpressions = list(s.matchExpressions).map((e, i) => {
    const x = obj(e);
    const operator = x.operator as SelectorOperator;
    if (!OPERATORS.includes(operator)) {
      throw new PolicyParseError(ref, `${field}.matchExpressions[${i}].operator`, JSON.stringify(x.operator));
    }
    return { key: str(x.key), operator, values: list(x.values).map(str) };
  });
  return { matchLabels: parseLabels(s.matchLabels), matchExpressions };
}

function parsePeer(ref: string, field: string, v: unknown): PolicyPeer {
  const p = obj(v);
  if (p.ipBlock !== undefined) {
    const b = obj(p.ipBlock);
    return { ipBlock: { cidr: str(b.cidr), except: list(b.except).map(str) } };
  }
  if (p.podSelector === undefined && p.namespaceSelector === undefined) {
    throw new PolicyParseError(ref, field, 'a peer needs podSelector, namespaceSelector or ipBlock');
  }
  return {
    ...(p.podSelector !== undefined
      ? { podSelector: parseSelector(ref, `${field}.podSelector`, p.podSelector) }
      : {}),
    ...(p.namespaceSelector !== undefined
      ? { namespaceSelector: parseSelector(ref, `${field}.namespaceSelector`, p.namespaceSelector) }
      : {}),
  };
}

function parsePort(ref: string, field: string, v: unknown): PolicyPort {
  const p = obj(v);
  const protocol = parseProtocol(ref, `${field}.protocol`, p.protocol);
  const port = p.port;
  if (port === undefined) return { protocol };
  if (typeof port === 'string' && !/^\d+$/.test(port)) return { protocol, port };
  const number = Number(port);
  if (!Number.isInteger(number) || number < 1 || number > 65535) {
    throw new PolicyParseError(ref, `${field}.port`, JSON.stringify(port));
  }
  if (p.endPort === undefined) return { protocol, port: number };
  if (typeof p.endPort !== 'number' || p.endPort < number || p.endPort > 65535) {
    throw new PolicyParseError(ref, `${field}.endPort`, JSON.stringify(p.endPort));
  }
  return { protocol, port: number, endPort: p.endPort };
}

function parseRules(ref: string, direction: 'ingress' | 'egress', v: unknown): PolicyRule[] {
  const peersKey = direction === 'ingress' ? 'from' : 'to';
  return list(v).map((r, i) => {
    const rule = obj(r);
    const field = `spec.${direction}[${i}]`;
    return {
      peers: list(rule[peersKey]).map((p, j) => parsePeer(ref, `${field}.${peersKey}[${j}]`, p)),
      ports: list(rule.ports).map((p, j) => parsePort(ref, `${field}.ports[${j}]`, p)),
    };
  });
}

/**
 * NetworkPolicy → its effective form. policyTypes absent: Ingress always,
 * Egress when the policy has egress rules (what the API defaults).
 */
export function parseNetworkPolicy(o: unknown): NetworkPolicy {
  const ref = objectRef(o);
  const meta = obj(obj(o).metadata);
  const spec = obj(obj(o).spec);
  const egress = parseRules(ref, 'egress', spec.egress);
  const types = Array.isArray(spec.policyTypes) ? spec.policyTypes.map(str) : undefined;
  for (const [i, t] of (types ?? []).entries()) {
    if (t !== 'Ingress' && t !== 'Egress')
      throw new PolicyParseError(ref, `spec.policyTypes[${i}]`, JSON.stringify(t));
  }
  if (!str(meta.namespace) || !str(meta.name)) {
    throw new PolicyParseError(ref, 'metadata', 'namespace and name are required');
  }
  return {
    namespace: str(meta.namespace),
    name: str(meta.name),
    podSelector: parseSelector(ref, 'spec.podSelector', spec.podSelector),
    ingressIsolation: types ? types.includes('Ingress') : true,
    egressIsolation: types ? types.includes('Egress') : egress.length > 0,
    ingress: parseRules(ref, 'ingress', spec.ingress),
    egress,
  };
}
