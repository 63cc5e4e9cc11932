import { WeftError } from '../../../common/errors.js';
import type { NftChainState, NftMapState, NftSetState, NftTableState } from './state.js';

/** Typed views of `ip -json`, `bridge -json` and `nft -j` output. */

export interface LinkRecord {
  readonly name: string;
  readonly kind: string;
  readonly mtu: number;
  /** Administratively up (IFF_UP), whatever the carrier. */
  readonly up: boolean;
  readonly mac: string;
  readonly vxlan: VxlanInfo | undefined;
}

export interface VxlanInfo {
  readonly vni: number;
  readonly port: number;
  readonly local: string;
  readonly dev: string;
  readonly learning: boolean;
}

export interface LinkAddrs {
  readonly name: string;
  readonly mtu: number;
  /** IPv4 addresses as "a.b.c.d/len". */
  readonly cidrs: readonly string[];
  /**
   * IPv6 addresses as "x::y/len", without link- and host-scope ones: the kernel gives every
   * device an fe80:: address of its own, which is never Weft's to compare or delete.
   */
  readonly cidrs6: readonly string[];
}

export interface RouteRecord {
  /** "a.b.c.d/len", a bare host address for /32, or "default". */
  readonly dst: string;
  readonly gateway: string | undefined;
  readonly dev: string | undefined;
  readonly onlink: boolean;
  readonly metric: number;
  readonly scope: string;
  /** Name or number as a string; undefined when the query filtered by protocol. */
  readonly protocol: string | undefined;
}

export interface RuleRecord {
  readonly priority: number;
  readonly iif: string | undefined;
  /** "0x1000"; undefined for a rule without fwmark. */
  readonly fwmark: string | undefined;
  readonly fwmask: string | undefined;
  /** Table name or number as a string ("main", "87"). */
  readonly table: string;
  readonly protocol: string | undefined;
}

export interface NeighRecord {
  readonly ip: string;
  readonly mac: string | undefined;
  readonly permanent: boolean;
}

export interface FdbRecord {
  readonly mac: string;
  readonly dst: string | undefined;
}

export class ParseError extends WeftError {
  constructor(what: string, detail: string) {
    super('EPARSE', `cannot parse ${what}: ${detail}`);
  }
}

type Json = Record<string, unknown>;

function parseArray(text: string, what: string): Json[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (err) {
    throw new ParseError(what, err instanceof Error ? err.message : String(err));
  }
  if (!Array.isArray(value)) throw new ParseError(what, 'expected a JSON array');
  return value.filter((v): v is Json => typeof v === 'object' && v !== null);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown, fallback = 0): number => (typeof v === 'number' ? v : fallback);
const strList = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => typeof x === 'string') : []);
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null ? (v as Json) : {});

/** `ip -d -json link show` */
export function parseLinks(text: string): LinkRecord[] {
  return parseArray(text, 'ip link').map((l) => {
    const info = obj(l.linkinfo);
    const kind = str(info.info_kind) ?? '';
    const data = obj(info.info_data);
    const vxlan: VxlanInfo | undefined =
      kind === 'vxlan'
        ? {
            vni: num(data.id),
            port: num(data.port),
            // iproute2 names an IPv6 tunnel source local6 (an IPv6-only node's VXLAN, ADR 19).
            local: str(data.local) ?? str(data.local6) ?? '',
            dev: str(data.link) ?? '',
            learning: data.learning !== false,
          }
        : undefined;
    return {
      name: str(l.ifname) ?? '',
      kind,
      mtu: num(l.mtu),
      up: strList(l.flags).includes('UP'),
      mac: str(l.address) ?? '',
      vxlan,
    };
  });
}

/** `ip -json addr show` (both families; `-4` gives the IPv4 part only) */
export function parseAddrs(text: string): LinkAddrs[] {
  return parseArray(text, 'ip addr').map((l) => {
    const info = (Array.isArray(l.addr_info) ? l.addr_info : [])
      .map(obj)
      .filter((a) => typeof a.local === 'string');
    return {
      name: str(l.ifname) ?? '',
      mtu: num(l.mtu),
      cidrs: info
        .filter((a) => a.family === 'inet')
        .map((a) => `${a.local as string}/${num(a.prefixlen, 32)}`),
      cidrs6: info
        .filter((a) => a.family === 'inet6' && a.scope !== 'link' && a.scope !== 'host')
        .map((a) => `${(a.local as string).toLowerCase()}/${num(a.prefixlen, 128)}`),
    };
  });
}

/** `ip -json -4 route show …` (or `-6`) */
export function parseRoutes(text: string): RouteRecord[] {
  return parseArray(text, 'ip route').map((r) => ({
    dst: str(r.dst) ?? '',
    gateway: str(r.gateway),
    dev: str(r.dev),
    onlink: strList(r.flags).includes('onlink'),
    metric: num(r.metric),
    scope: str(r.scope) ?? 'global',
    protocol: typeof r.protocol === 'number' ? String(r.protocol) : str(r.protocol),
  }));
}

/** `ip -json -4 rule show` */
export function parseRules(text: string): RuleRecord[] {
  return parseArray(text, 'ip rule').map((r) => ({
    priority: num(r.priority),
    iif: str(r.iif),
    fwmark: str(r.fwmark),
    // Without a mask ip prints none: the kernel's default mask is all ones.
    fwmask: str(r.fwmask) ?? (r.fwmark === undefined ? undefined : '0xffffffff'),
    table: typeof r.table === 'number' ? String(r.table) : (str(r.table) ?? ''),
    protocol: typeof r.protocol === 'number' ? String(r.protocol) : str(r.protocol),
  }));
}

/** `ip -json neigh show dev X` (both families) */
export function parseNeighbours(text: string): NeighRecord[] {
  return parseArray(text, 'ip neigh').map((n) => ({
    ip: str(n.dst) ?? '',
    mac: str(n.lladdr),
    permanent: strList(n.state).includes('PERMANENT'),
  }));
}

/** `bridge -json fdb show dev X` */
export function parseFdb(text: string): FdbRecord[] {
  return parseArray(text, 'bridge fdb').map((f) => ({ mac: str(f.mac) ?? '', dst: str(f.dst) }));
}

/** A scalar of an nft JSON element (address, protocol name, port number). */
function nftScalar(v: unknown): string {
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  return `?${JSON.stringify(v)}`;
}

/**
 * One set element as desired() writes it: "a.b.c.d/len" or "x::/len" in an interval set, the
 * parts joined by " . " for a concatenation. Ranges and the like come out as
 * "?…", never equal to a desired element, so the plan replaces them.
 */
function nftElement(e: unknown, interval: boolean): string {
  if (typeof e === 'string') return interval && !e.includes('/') ? `${e}/${e.includes(':') ? 128 : 32}` : e;
  const o = obj(e);
  const prefix = obj(o.prefix);
  if (typeof prefix.addr === 'string') return `${prefix.addr}/${num(prefix.len, 32)}`;
  if (Array.isArray(o.concat)) return o.concat.map(nftScalar).join(' . ');
  return `?${JSON.stringify(e)}`;
}

/** A verdict-map element: "10.244.1.5 : jump in_…". */
function nftMapElement(e: unknown): string {
  if (!Array.isArray(e) || e.length !== 2) return `?${JSON.stringify(e)}`;
  const verdict = obj(e[1]);
  for (const kind of ['jump', 'goto'] as const) {
    const target = str(obj(verdict[kind]).target);
    if (target !== undefined) return `${nftElement(e[0], false)} : ${kind} ${target}`;
  }
  return `${nftElement(e[0], false)} : ${Object.keys(verdict)[0] ?? '?'}`;
}

const nftType = (v: unknown): string => (Array.isArray(v) ? v.map(nftScalar).join(' . ') : (str(v) ?? ''));
const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function parseNftSet(s: Json): NftSetState {
  const flags = strList(s.flags).sort().join(',');
  const interval = flags.includes('interval');
  const elem = Array.isArray(s.elem) ? s.elem.map((e) => nftElement(e, interval)).sort() : [];
  return { name: str(s.name) ?? '', type: nftType(s.type), flags, elements: elem };
}

function parseNftMap(m: Json): NftMapState {
  const elem = Array.isArray(m.elem) ? m.elem.map(nftMapElement).sort() : [];
  return { name: str(m.name) ?? '', type: `${nftType(m.type)} : ${nftType(m.map)}`, elements: elem };
}

/** `nft -j list table …` → the comparable shape of the table. */
export function parseNftTable(text: string): NftTableState {
  const items = parseNftItems(text);
  const sets: NftSetState[] = [];
  const maps: NftMapState[] = [];
  const counters: string[] = [];
  const chains = new Map<string, { chain: Omit<NftChainState, 'rules'>; rules: string[] }>();
  for (const raw of items) {
    if (raw.set !== undefined) sets.push(parseNftSet(obj(raw.set)));
    else if (raw.map !== undefined) maps.push(parseNftMap(obj(raw.map)));
    else if (raw.counter !== undefined) counters.push(str(obj(raw.counter).name) ?? '');
    else if (raw.chain !== undefined) {
      const c = obj(raw.chain);
      const name = str(c.name) ?? '';
      const chain = {
        name,
        type: str(c.type) ?? '',
        hook: str(c.hook) ?? '',
        prio: num(c.prio),
        policy: str(c.policy) ?? '',
      };
      chains.set(name, { chain, rules: [] });
    } else if (raw.rule !== undefined) {
      const r = obj(raw.rule);
      chains.get(str(r.chain) ?? '')?.rules.push(str(r.comment) ?? '');
    }
  }
  return {
    sets: sets.sort(byName),
    maps: maps.sort(byName),
    counters: counters.sort(),
    chains: [...chains.values()].map(({ chain, rules }) => ({ ...chain, rules })).sort(byName),
  };
}

/** The objects of an `nft -j list …` document. */
export function parseNftItems(text: string): Json[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ParseError('nft -j', err instanceof Error ? err.message : String(err));
  }
  const items = obj(doc).nftables;
  if (!Array.isArray(items)) throw new ParseError('nft -j', 'no "nftables" array');
  return items.map(obj);
}

/** `nft -j list counters table …` → packets per named counter. */
export function parseNftCounters(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const raw of parseNftItems(text)) {
    if (raw.counter === undefined) continue;
    const c = obj(raw.counter);
    out.set(str(c.name) ?? '', num(c.packets));
  }
  return out;
}
