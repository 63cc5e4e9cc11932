import { Registry } from 'prom-client';
import { silentLogger } from '../../../common/log.js';
import { Datapath } from '../../src/datapath/datapath.js';
import { Netlink } from '../../src/datapath/netlink.js';
import type { DatapathConfig, SelfNode } from '../../src/datapath/types.js';
import { addVethPair, type NetnsSet, nsIpBatch, nsIpJson, nsRun, run } from './netns-helpers.js';

/**
 * Three "nodes" for datapath tests:
 *   n1 192.168.71.1 ─┐
 *   n2 192.168.71.2 ─┤ switch (bridge in ns sw) ── rt 192.168.71.254 | 192.168.72.254 ── n3 192.168.72.3
 * n1 and n2 share one L2 subnet; n3 is behind the router on another.
 * With `ipv6` (dual-stack, ADR 18) every node also has an IPv6 InternalIP (fd00:71::1, ::2 on the
 * shared link, fd00:72::3 behind the router) and an IPv6 podCIDR fd00:10:244:<n>::/64; the router
 * has fd00:71::254 and fd00:72::254 but does not forward IPv6, so IPv6 between the two subnets
 * can only go through the tunnel over IPv4.
 * With `ipv6only` (ADR 19) there is no IPv4 at all: the same IPv6 addresses are the nodes'
 * underlayIPs, podCIDRs are fd00:10:244:<n>::/64 only, the router forwards IPv6 and every node
 * has its default route via the router.
 */
export interface TestNode {
  readonly ns: string;
  readonly self: SelfNode;
  readonly datapath: Datapath;
  readonly netlink: Netlink;
  readonly registry: Registry;
}

export interface Topology {
  readonly n1: TestNode;
  readonly n2: TestNode;
  readonly n3: TestNode;
  readonly router: string;
}

/** The unit tests' datapath config (re-exported so namespace tests import one module). */
export { testConfig } from '../../src/datapath/test-fixtures.js';

/** Which stack a topology's nodes have. */
type Stack = 'ipv4' | 'dual' | 'ipv6only';

/** The IPv6 underlay address of node <n> on subnet <subnet> (71 or 72). */
const ip6Of = (subnet: string, n: string) => `fd00:${subnet}::${n}`;

function testNode(ns: string, name: string, underlayIP: string, podCIDR: string, stack: Stack): TestNode {
  const netlink = new Netlink({ netns: ns });
  const registry = new Registry();
  const datapath = new Datapath({ netlink, registry, log: silentLogger() });
  const [, , subnet = '', n = ''] = underlayIP.split('.');
  const pod6 = `fd00:10:244:${podCIDR.split('.')[2]}::/64`;
  const ip6 = ip6Of(subnet, n);
  const self: SelfNode =
    stack === 'ipv4'
      ? { name, underlayIP, podCIDRs: [podCIDR] }
      : stack === 'dual'
        ? { name, underlayIP, underlayIP6: ip6, podCIDRs: [podCIDR, pod6] }
        : { name, underlayIP: ip6, underlayIP6: ip6, podCIDRs: [pod6] };
  return { ns, netlink, registry, datapath, self };
}

export async function buildTopology(
  set: NetnsSet,
  opts: { readonly ipv6?: boolean; readonly ipv6only?: boolean } = {},
): Promise<Topology> {
  const sw = await set.create('sw');
  const router = await set.create('rt');
  const [n1, n2, n3] = [await set.create('n1'), await set.create('n2'), await set.create('n3')];
  await nsIpBatch(sw, ['link add br0 type bridge', 'link set br0 up']);
  for (const [ns, port] of [
    [n1, 'p1'],
    [n2, 'p2'],
    [router, 'prt'],
  ] as const) {
    await addVethPair(ns, 'eth0', sw, port);
    await run('ip', ['-n', sw, 'link', 'set', port, 'master', 'br0']);
  }
  await addVethPair(router, 'eth1', n3, 'eth0');
  const stack: Stack = opts.ipv6only ? 'ipv6only' : opts.ipv6 ? 'dual' : 'ipv4';
  if (stack !== 'ipv6only') {
    await nsIpBatch(n1, [
      'addr add 192.168.71.1/24 dev eth0',
      'route add 192.168.72.0/24 via 192.168.71.254',
    ]);
    await nsIpBatch(n2, [
      'addr add 192.168.71.2/24 dev eth0',
      'route add 192.168.72.0/24 via 192.168.71.254',
    ]);
    await nsIpBatch(n3, [
      'addr add 192.168.72.3/24 dev eth0',
      'route add 192.168.71.0/24 via 192.168.72.254',
    ]);
    await nsIpBatch(router, ['addr add 192.168.71.254/24 dev eth0', 'addr add 192.168.72.254/24 dev eth1']);
    await nsRun(router, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
  }
  if (stack !== 'ipv4') await addIpv6Underlay(n1, n2, n3, router, stack === 'ipv6only');
  return {
    n1: testNode(n1, 'n1', '192.168.71.1', '10.244.1.0/24', stack),
    n2: testNode(n2, 'n2', '192.168.71.2', '10.244.2.0/24', stack),
    n3: testNode(n3, 'n3', '192.168.72.3', '10.244.3.0/24', stack),
    router,
  };
}

/** The IPv6 addresses of the underlay; `routed`: the router forwards IPv6 and is every node's default. */
async function addIpv6Underlay(n1: string, n2: string, n3: string, router: string, routed: boolean) {
  const via = (gw: string) => (routed ? [`route add default via ${gw}`] : []);
  await nsIpBatch(n1, [`addr add ${ip6Of('71', '1')}/64 dev eth0 nodad`, ...via('fd00:71::254')]);
  await nsIpBatch(n2, [`addr add ${ip6Of('71', '2')}/64 dev eth0 nodad`, ...via('fd00:71::254')]);
  await nsIpBatch(n3, [`addr add ${ip6Of('72', '3')}/64 dev eth0 nodad`, ...via('fd00:72::254')]);
  await nsIpBatch(router, [
    'addr add fd00:71::254/64 dev eth0 nodad',
    'addr add fd00:72::254/64 dev eth1 nodad',
  ]);
  if (routed) await nsRun(router, 'sysctl', ['-q', '-w', 'net.ipv6.conf.all.forwarding=1']);
}

/** Syncs every node with all the others as peers. */
export async function syncMesh(nodes: readonly TestNode[], config: DatapathConfig): Promise<void> {
  for (const node of nodes) {
    const peers = nodes.filter((n) => n !== node).map((n) => n.self);
    await node.datapath.sync(node.self, peers, config);
  }
}

/** A route as `ip -json route` prints it. */
export interface RouteJson {
  readonly dst: string;
  readonly gateway?: string;
  readonly dev?: string;
  readonly flags?: string[];
  readonly protocol?: string;
}

/** IPv4 routes of the main table in `ns`. */
export const routesOf = (ns: string) => nsIpJson<RouteJson>(ns, ['-4', 'route', 'show', 'table', 'main']);
