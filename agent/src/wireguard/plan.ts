import type { DesiredWireguard, ObservedWireguard, WgPeerState } from './state.js';

/** One change to the device. Plans list them in the order they must run. */
export type WgPlanOp =
  /** Create the device (kernel: `ip link add … type wireguard`; userspace: start wireguard-go). */
  | { readonly op: 'device-add'; readonly name: string }
  | { readonly op: 'link-mtu'; readonly name: string; readonly mtu: number }
  | { readonly op: 'link-up'; readonly name: string }
  | { readonly op: 'addr-add'; readonly name: string; readonly cidr: string }
  | { readonly op: 'addr-del'; readonly name: string; readonly cidr: string }
  /** Hand the node's private key to the device (on stdin, never on a command line). */
  | { readonly op: 'private-key' }
  | { readonly op: 'listen-port'; readonly port: number }
  | { readonly op: 'peer-remove'; readonly publicKey: string }
  | { readonly op: 'peer-set'; readonly peer: WgPeerState };

const sameList = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

function samePeer(want: WgPeerState, have: WgPeerState): boolean {
  return (
    (want.endpoint === undefined || want.endpoint === have.endpoint) &&
    want.persistentKeepalive === have.persistentKeepalive &&
    sameList(want.allowedIPs, [...have.allowedIPs].sort())
  );
}

/**
 * Pure: desired vs observed → ops. Link first (create, MTU, up), then the key and port, then
 * peer removals before peer sets, so an allowed IP moving from an old key of a node to its new
 * key is released before it is claimed. A peer whose endpoint was learnt from its packets (no
 * endpoint desired) is left as it is.
 */
export function planWireguard(desired: DesiredWireguard, observed: ObservedWireguard): WgPlanOp[] {
  const ops: WgPlanOp[] = [];
  const { link } = desired;
  if (observed.link === undefined) ops.push({ op: 'device-add', name: link.name });
  if (observed.link?.mtu !== link.mtu) ops.push({ op: 'link-mtu', name: link.name, mtu: link.mtu });
  if (observed.link?.up !== true) ops.push({ op: 'link-up', name: link.name });
  const addrs = new Set(observed.link?.addresses ?? []);
  for (const cidr of addrs)
    if (!link.addresses.includes(cidr)) ops.push({ op: 'addr-del', name: link.name, cidr });
  for (const cidr of link.addresses)
    if (!addrs.has(cidr)) ops.push({ op: 'addr-add', name: link.name, cidr });

  const have = observed.link === undefined ? undefined : observed.config;
  if (have?.publicKey !== desired.config.publicKey) ops.push({ op: 'private-key' });
  if (have?.listenPort !== desired.config.listenPort)
    ops.push({ op: 'listen-port', port: desired.config.listenPort });

  const wanted = new Map(desired.config.peers.map((p) => [p.publicKey, p]));
  const existing = new Map((have?.peers ?? []).map((p) => [p.publicKey, p]));
  for (const key of existing.keys()) if (!wanted.has(key)) ops.push({ op: 'peer-remove', publicKey: key });
  for (const [key, want] of wanted) {
    const cur = existing.get(key);
    if (cur === undefined || !samePeer(want, cur)) ops.push({ op: 'peer-set', peer: want });
  }
  return ops;
}

/**
 * The `wg set <dev> …` arguments for the key, port and peer ops of a plan (one invocation: `wg`
 * applies them in order), or undefined when there are none. The private key is read from
 * `/dev/stdin`; the caller pipes it in.
 */
export function wgSetArgs(device: string, ops: readonly WgPlanOp[]): string[] | undefined {
  const args: string[] = [];
  for (const o of ops) {
    if (o.op === 'private-key') args.push('private-key', '/dev/stdin');
    else if (o.op === 'listen-port') args.push('listen-port', String(o.port));
    else if (o.op === 'peer-remove') args.push('peer', o.publicKey, 'remove');
    else if (o.op === 'peer-set') {
      const p = o.peer;
      args.push('peer', p.publicKey);
      if (p.endpoint !== undefined) args.push('endpoint', p.endpoint);
      args.push(
        'persistent-keepalive',
        p.persistentKeepalive === undefined ? 'off' : String(p.persistentKeepalive),
      );
      args.push('allowed-ips', p.allowedIPs.join(','));
    }
  }
  return args.length === 0 ? undefined : ['set', device, ...args];
}
