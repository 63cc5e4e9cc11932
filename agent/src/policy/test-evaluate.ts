/**
 * For the compiler's unit tests (not a test file itself): decides the fate of a
 * new connection the way the kernel would run the compiled policy part — egress
 * chain of the source, then ingress chain of the destination. Understands only
 * the rule forms compile.ts writes, and fails loudly on anything else.
 */
import { parseIp } from '../../../common/ip.js';
import { parseIpPrefix, prefixContains } from '../../../common/ip-prefix.js';
import type { PolicyContent } from '../datapath/state.js';

export interface Packet {
  readonly src: string;
  readonly dst: string;
  readonly proto: 'tcp' | 'udp' | 'sctp';
  readonly port: number;
}

function inSet(content: PolicyContent, name: string, key: string): boolean {
  const set = content.sets.find((s) => s.name === name);
  if (!set) throw new Error(`rule references a missing set ${name}`);
  if (set.type !== (key.includes(':') ? 'ipv6_addr' : 'ipv4_addr') && set.flags === 'interval')
    throw new Error(`an address of the other family looked up in ${name}`);
  if (set.flags !== 'interval') return set.elements.includes(key);
  return set.elements.some((c) => prefixContains(parseIpPrefix(c), parseIp(key)));
}

/** `ip …` holds only for IPv4 packets, `ip6 …` only for IPv6 ones (what nft's implicit nfproto test does). */
const familyHolds = (word: string, address: string) => (word === 'ip6') === address.includes(':');

function portIn(list: string, port: number): boolean {
  return list.split(',').some((p) => {
    const [a, b] = p.trim().split('-').map(Number);
    return b === undefined ? port === a : port >= (a as number) && port <= b;
  });
}

/** The match forms compile.ts writes, each with its test against a packet. */
const MATCHERS: Array<[RegExp, (m: RegExpExecArray, content: PolicyContent, p: Packet) => boolean]> = [
  [
    /^(ip6?) daddr \. meta l4proto \. th dport @(\S+)/,
    (m, c, p) =>
      familyHolds(m[1] as string, p.dst) && inSet(c, m[2] as string, `${p.dst} . ${p.proto} . ${p.port}`),
  ],
  [
    /^(ip6?) (saddr|daddr) @(\S+)/,
    (m, c, p) => {
      const address = m[2] === 'saddr' ? p.src : p.dst;
      return familyHolds(m[1] as string, address) && inSet(c, m[3] as string, address);
    },
  ],
  [/^meta l4proto (\w+)/, (m, _c, p) => m[1] === p.proto],
  [/^th dport \{ ([^}]*) \}/, (m, _c, p) => portIn(m[1] as string, p.port)],
];

/** True when every match of the rule holds; the verdict words are left for the caller. */
function matches(content: PolicyContent, text: string, p: Packet): boolean {
  let rest = text.trimStart();
  while (!rest.startsWith('ct mark set') && !rest.startsWith('counter')) {
    const found = MATCHERS.map(([re, test]) => [re.exec(rest), test] as const).find(([m]) => m !== null);
    if (!found?.[0]) throw new Error(`unknown rule text: ${text}`);
    const [m, test] = found;
    if (!test(m, content, p)) return false;
    rest = rest.slice(m[0].length).trimStart();
  }
  return true;
}

function runChain(content: PolicyContent, chainName: string, p: Packet): boolean {
  const chain = content.chains.find((c) => c.name === chainName);
  if (!chain) throw new Error(`map jumps to a missing chain ${chainName}`);
  for (const id of chain.rules) {
    const text = content.rules.get(id);
    if (text === undefined) throw new Error(`rule ${id} has no text`);
    if (text.startsWith('ct state established')) continue; // a new connection
    if (!matches(content, text, p)) continue;
    if (text.endsWith(' return') || text.endsWith('return')) return true;
    if (text.endsWith(' drop')) return false;
    throw new Error(`rule without a verdict: ${text}`);
  }
  throw new Error(`chain ${chainName} falls through`);
}

const chainFor = (elements: readonly string[], ip: string) =>
  elements.find((e) => e.startsWith(`${ip} : jump `))?.split(' : jump ')[1];

/** "allow" or the direction that drops a new connection; the dispatch maps of the packet's family. */
export function evaluate(content: PolicyContent, p: Packet): 'allow' | 'egress' | 'ingress' {
  if (p.src.includes(':') !== p.dst.includes(':')) throw new Error('a packet has one family');
  const v6 = p.src.includes(':');
  const egress = chainFor((v6 ? content.egress6 : content.egress) ?? [], p.src);
  if (egress && !runChain(content, egress, p)) return 'egress';
  const ingress = chainFor((v6 ? content.ingress6 : content.ingress) ?? [], p.dst);
  if (ingress && !runChain(content, ingress, p)) return 'ingress';
  return 'allow';
}
