import { createHash } from 'node:crypto';
import type { IpFamily } from '../../../common/ip.js';
import { POLICY_DROP_EGRESS, POLICY_DROP_INGRESS } from '../datapath/nft-ruleset.js';
import type { NftChainState, NftSetState, PolicyContent } from '../datapath/state.js';
import { type MemoElements, memoElements, memoPeerElements, PolicyIndex, type PolicyMemo } from './peers.js';
import { computePortMatches, namedPortsOf, type PortProblem, renderPortMatch } from './ports.js';
import { matchesSelector } from './selector.js';
import {
  type NetworkPolicy,
  type PolicyNamespace,
  type PolicyPod,
  type PolicyRule,
  type Protocol,
  refOf,
} from './types.js';

export type Direction = 'ingress' | 'egress';

export interface PolicyInputs {
  /** Only pods on this node are enforced here; peers anywhere are matched by address. */
  readonly nodeName: string;
  readonly pods: Iterable<PolicyPod>;
  readonly namespaces: ReadonlyMap<string, PolicyNamespace>;
  readonly policies: Iterable<NetworkPolicy>;
  /** The kernel can match SCTP; without it SCTP port entries allow nothing and are reported. */
  readonly sctp: boolean;
  /** What earlier compilations computed (the engine keeps one); the result is the same without. */
  readonly memo?: PolicyMemo;
}

/** Something in a policy that Weft cannot enforce as written (it then allows less, never more). */
export interface PolicyProblem {
  readonly policy: string;
  readonly field: string;
  readonly reason: string;
}

/** Which policies isolate one local pod, per direction, and the chain that holds its verdict. */
export interface PodSelection {
  readonly pod: string;
  /** The pod's first address (its IPv4 one in a dual-stack cluster). */
  readonly ip: string;
  readonly ingress: readonly string[];
  readonly egress: readonly string[];
  readonly ingressChain: string | undefined;
  readonly egressChain: string | undefined;
}

export interface CompiledPolicy {
  readonly content: PolicyContent;
  readonly problems: readonly PolicyProblem[];
  readonly selections: readonly PodSelection[];
  /** Policies that select at least one pod of this node. */
  readonly enforcedPolicies: number;
}

const hash = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Per family: how rules match a peer address (`peer` by direction), the set
 * names' prefixes and the set types. IPv4 keeps the names and texts it always
 * had; IPv6 has its own sets, matched by `ip6` rules in the same chains.
 */
const FAMILY = {
  4: { ingress: 'ip saddr', egress: 'ip daddr', peerSet: 'pe', portSet: 'pn', type: 'ipv4_addr' },
  6: { ingress: 'ip6 saddr', egress: 'ip6 daddr', peerSet: 'pe6', portSet: 'pn6', type: 'ipv6_addr' },
} as const;

/** Per direction: the ct mark half it owns, the drop counter (one for both families). */
const DIRECTION = {
  ingress: {
    prefix: 'in',
    mask: '0x0000ffff',
    keep: '0xffff0000',
    counter: POLICY_DROP_INGRESS,
  },
  egress: {
    prefix: 'eg',
    mask: '0xffff0000',
    keep: '0x0000ffff',
    counter: POLICY_DROP_EGRESS,
  },
} as const;

/** The connection mark value of a chain's epoch in its direction's half. */
function markOf(direction: Direction, epoch: number): string {
  const shifted = direction === 'ingress' ? epoch : epoch * 0x10000;
  return `0x${shifted.toString(16).padStart(8, '0')}`;
}

/**
 * What a peer list selects, as text: the policy's namespace is part of it only
 * for peers that select in that namespace (a namespaceSelector or an ipBlock
 * means the same in every namespace), so equal peer lists share one set.
 */
function peersKey(policyNs: string, peers: readonly PolicyRule['peers'][number][]): string {
  return JSON.stringify(
    peers.map((p) => (p.ipBlock || p.namespaceSelector ? p : { in: policyNs, podSelector: p.podSelector })),
  );
}

/** Everything one compilation collects besides the chains. */
class Collector {
  readonly sets = new Map<string, NftSetState>();
  readonly rules = new Map<string, string>();
  readonly problems = new Map<string, PolicyProblem>();
  /** The memo's peer-set entries this compilation used (the next memo keeps only these). */
  readonly usedElements = new Map<string, MemoElements>();

  constructor(
    readonly index: PolicyIndex,
    readonly sctp: boolean,
  ) {}

  problem(policy: string, field: string, reason: string): void {
    this.problems.set(`${policy} ${field}`, { policy, field, reason });
  }

  /**
   * The named set of a rule's peers of one family (shared by every rule that
   * selects the same peers; the IPv6 set has the IPv4 one's hash).
   */
  peerSet(policy: NetworkPolicy, rule: PolicyRule, field: string, family: IpFamily): string {
    const key = peersKey(policy.namespace, rule.peers);
    const f = FAMILY[family];
    const name = `${f.peerSet}_${hash(key).slice(0, 12)}`;
    if (!this.sets.has(name)) {
      const { elements, problems } = memoPeerElements(
        this.index,
        key,
        policy.namespace,
        rule.peers,
        field,
        this.usedElements,
        family,
      );
      for (const p of problems) this.problem(refOf(policy), p.field, p.reason);
      this.sets.set(name, { name, type: f.type, flags: 'interval', elements });
    }
    return name;
  }

  /**
   * Egress to a named port: destination address . protocol . port of every
   * peer pod that has it, for the addresses of one family.
   */
  namedPortSet(
    policy: NetworkPolicy,
    rule: PolicyRule,
    port: string,
    protocol: Protocol,
    family: IpFamily,
  ): string {
    const base = `${peersKey(policy.namespace, rule.peers)} ${port} ${protocol}`;
    const key = family === 4 ? base : `${base} 6`;
    const f = FAMILY[family];
    const name = `${f.portSet}_${hash(base).slice(0, 12)}`;
    if (!this.sets.has(name)) {
      const groups =
        rule.peers.length === 0
          ? [this.index.all]
          : rule.peers.flatMap((p) => this.index.podGroupsOf(policy.namespace, p));
      const { elements } = memoElements(this.index, this.usedElements, key, groups, () => {
        const out = new Set<string>();
        for (const pod of groups.flat()) {
          const number = namedPortsOf(pod.ports)(port, protocol);
          if (number === undefined) continue;
          for (const ip of pod.ips)
            if (ip.includes(':') === (family === 6)) out.add(`${ip} . ${protocol.toLowerCase()} . ${number}`);
        }
        return { elements: [...out].sort(), problems: [] };
      });
      this.sets.set(name, {
        name,
        type: `${f.type} . inet_proto . inet_service`,
        flags: '',
        elements,
      });
    }
    return name;
  }
}

/**
 * The match texts (without verdict) of one rule for one selected pod and one
 * family. Port matches (`meta l4proto … th dport …`) hold for both families, so
 * a rule without peers gives the same texts for each (the chain keeps one).
 */
function ruleMatches(
  c: Collector,
  policy: NetworkPolicy,
  rule: PolicyRule,
  direction: Direction,
  field: string,
  pod: PolicyPod,
  family: IpFamily,
): string[] {
  const f = FAMILY[family];
  const peer =
    rule.peers.length > 0
      ? `${f[direction]} @${c.peerSet(policy, rule, `${field}.${direction === 'ingress' ? 'from' : 'to'}`, family)}`
      : '';
  if (rule.ports.length === 0) return [peer];
  const problems: PortProblem[] = [];
  // Ingress: a named port is the selected pod's. Egress: the destination's, through a set.
  const named = direction === 'ingress' ? namedPortsOf(pod.ports) : () => undefined;
  const numeric = direction === 'ingress' ? rule.ports : rule.ports.filter((p) => typeof p.port !== 'string');
  const out = computePortMatches(numeric, { named, sctp: c.sctp }, problems).map((m) =>
    [peer, renderPortMatch(m)].filter(Boolean).join(' '),
  );
  if (direction === 'egress') {
    rule.ports.forEach((p, i) => {
      if (typeof p.port !== 'string') return;
      if (p.protocol === 'SCTP' && !c.sctp)
        problems.push({ index: i, reason: 'SCTP is not supported by this node kernel' });
      else
        out.push(
          `${f.egress} . meta l4proto . th dport @${c.namedPortSet(policy, rule, p.port, p.protocol, family)}`,
        );
    });
  }
  for (const p of problems) c.problem(refOf(policy), `${field}.ports[${p.index}].protocol`, p.reason);
  return out;
}

/**
 * The chain holding one pod's verdict in one direction: an established
 * connection admitted under this very chain (its epoch in the connection mark)
 * returns at once; otherwise the allow rules of every policy, each marking the
 * connection and returning; otherwise a counted drop. Named by a hash of its
 * rules, so pods with the same verdict share it, and a changed verdict is a new
 * chain with a new epoch — which makes established connections be judged again.
 */
function podChain(
  c: Collector,
  direction: Direction,
  policies: readonly NetworkPolicy[],
  pod: PolicyPod,
): NftChainState {
  const d = DIRECTION[direction];
  const allows: { match: string; ref: string }[] = [];
  // IPv6 rules only where pods have IPv6 addresses: an IPv4-only cluster's chains stay as they were.
  const families: readonly IpFamily[] = c.index.ipv6 ? [4, 6] : [4];
  for (const policy of policies) {
    const rules = direction === 'ingress' ? policy.ingress : policy.egress;
    rules.forEach((rule, i) => {
      const field = `spec.${direction}[${i}]`;
      for (const family of families)
        for (const match of ruleMatches(c, policy, rule, direction, field, pod, family)) {
          if (!allows.some((a) => a.match === match))
            allows.push({ match, ref: `${refOf(policy)} ${direction}[${i}]` });
        }
    });
  }
  const digest = hash(JSON.stringify([direction, allows.map((a) => a.match)]));
  const name = `${d.prefix}_${digest.slice(0, 12)}`;
  const epoch = Number.parseInt(digest.slice(12, 16), 16) || 1;
  const mark = markOf(direction, epoch);
  const rule = (id: string, text: string) => {
    c.rules.set(id, text);
    return id;
  };
  const ids = [rule(`${name} established`, `ct state established ct mark and ${d.mask} == ${mark} return`)];
  for (const a of allows) {
    const text = `${a.match} ct mark set ct mark and ${d.keep} or ${mark} return`.trimStart();
    ids.push(rule(`${hash(text).slice(0, 10)} ${a.ref}`.slice(0, 120), text));
  }
  ids.push(rule(`${d.prefix} drop`, `counter name "${d.counter}" drop`));
  return { name, type: '', hook: '', prio: 0, policy: '', rules: ids };
}

/**
 * Policy objects, pods and namespaces → the NetworkPolicy part of table inet
 * weft for one node. Pure. Each pod of this node that some policy selects for a
 * direction (default deny for it) gets the union of those policies' allow rules
 * in a chain its address jumps to; everything else passes untouched.
 */
export function compilePolicies(inputs: PolicyInputs): CompiledPolicy {
  const index = new PolicyIndex(inputs.pods, inputs.namespaces, inputs.memo);
  const c = new Collector(index, inputs.sctp);
  const policies = [...inputs.policies].sort((a, b) => (refOf(a) < refOf(b) ? -1 : 1));
  const chains = new Map<string, NftChainState>();
  // Dispatch map elements per family: pol_ingress/pol_egress (IPv4), pol_ingress6/pol_egress6.
  const maps = {
    ingress: [] as string[],
    egress: [] as string[],
    ingress6: [] as string[],
    egress6: [] as string[],
  };
  const selections: PodSelection[] = [];
  const enforced = new Set<string>();
  const byNamespace = new Map<string, NetworkPolicy[]>();
  for (const p of policies) {
    const list = byNamespace.get(p.namespace);
    if (list) list.push(p);
    else byNamespace.set(p.namespace, [p]);
  }
  const local = index.all.filter((p) => p.node === inputs.nodeName);
  for (const pod of local.sort((a, b) => (refOf(a) < refOf(b) ? -1 : 1))) {
    const selecting = (byNamespace.get(pod.namespace) ?? []).filter((p) =>
      matchesSelector(p.podSelector, pod.labels),
    );
    const chainOf = (direction: Direction, isolating: readonly NetworkPolicy[]) => {
      if (isolating.length === 0) return undefined;
      for (const p of isolating) enforced.add(refOf(p));
      const chain = podChain(c, direction, isolating, pod);
      chains.set(chain.name, chain);
      for (const ip of pod.ips)
        maps[ip.includes(':') ? (`${direction}6` as const) : direction].push(`${ip} : jump ${chain.name}`);
      return chain.name;
    };
    const ingress = selecting.filter((p) => p.ingressIsolation);
    const egress = selecting.filter((p) => p.egressIsolation);
    const ingressChain = chainOf('ingress', ingress);
    const egressChain = chainOf('egress', egress);
    if (ingressChain || egressChain) {
      selections.push({
        pod: refOf(pod),
        ip: pod.ips[0] as string,
        ingress: ingress.map(refOf),
        egress: egress.map(refOf),
        ingressChain,
        egressChain,
      });
    }
  }
  index.memo.elements = c.usedElements;
  const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : 1);
  return {
    content: {
      sets: [...c.sets.values()].sort(byName),
      chains: [...chains.values()].sort(byName),
      rules: c.rules,
      ingress: maps.ingress.sort(),
      egress: maps.egress.sort(),
      ingress6: maps.ingress6.sort(),
      egress6: maps.egress6.sort(),
    },
    problems: [...c.problems.values()],
    selections,
    enforcedPolicies: enforced.size,
  };
}
