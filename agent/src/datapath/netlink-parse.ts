import { WeftError } from '../../../common/errors.js';
import type { NftChainState, NftSetState, NftTableState } from './state.js';

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
            local: str(data.local) ?? '',
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

/** `ip -json -4 addr show` */
export function parseAddrs(text: string): LinkAddrs[] {
  return parseArray(text, 'ip addr').map((l) => ({
    name: str(l.ifname) ?? '',
    mtu: num(l.mtu),
    cidrs: (Array.isArray(l.addr_info) ? l.addr_info : [])
      .map(obj)
      .filter((a) => a.family === 'inet' && typeof a.local === 'string')
      .map((a) => `${a.local as string}/${num(a.prefixlen, 32)}`),
  }));
}

/** `ip -json -4 route show …` */
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

/** `ip -json -4 neigh show dev X` */
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

function nftElement(e: unknown): string {
  if (typeof e === 'string') return e.includes('/') ? e : `${e}/32`;
  const prefix = obj(obj(e).prefix);
  if (typeof prefix.addr === 'string') return `${prefix.addr}/${num(prefix.len, 32)}`;
  return `?${JSON.stringify(e)}`; // ranges etc.: never equal to a desired CIDR, so the table is rewritten
}

/** `nft -j list table …` → the comparable shape of the table. */
export function parseNftTable(text: string): NftTableState {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ParseError('nft -j', err instanceof Error ? err.message : String(err));
  }
  const items = obj(doc).nftables;
  if (!Array.isArray(items)) throw new ParseError('nft -j', 'no "nftables" array');
  const sets: NftSetState[] = [];
  const chains = new Map<string, { chain: Omit<NftChainState, 'rules'>; rules: string[] }>();
  for (const raw of items.map(obj)) {
    if (raw.set !== undefined) {
      const s = obj(raw.set);
      const elem = Array.isArray(s.elem) ? s.elem.map(nftElement).sort() : [];
      sets.push({ name: str(s.name) ?? '', elements: elem });
    } else if (raw.chain !== undefined) {
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
    sets: sets.sort((a, b) => a.name.localeCompare(b.name)),
    chains: [...chains.values()]
      .map(({ chain, rules }) => ({ ...chain, rules }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
}
