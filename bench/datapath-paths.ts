import type { DatapathConfig } from '../agent/src/datapath/types.js';
import { buildTopology, type Topology, testConfig } from '../agent/test/ns/datapath-topology.js';
import { addVethPair, NetnsSet, nsIpBatch, nsRun, run } from '../agent/test/ns/netns-helpers.js';
import { benchNames, benchTag } from './lib/run-tag.js';

/**
 * Network-namespace set-ups for the datapath benchmark. Each variant gets its
 * own copy of the datapath test topology (n1, n2 on one L2 underlay via a
 * switch namespace) under its own namespace prefix, so all four coexist and
 * the paths can be measured interleaved:
 *   weft-hostgw / weft-vxlan — the real agent Datapath.sync() on n1 and n2;
 *   hand-hostgw / hand-vxlan — the Flannel layout by hand: bridge cni0 + static
 *   routes; flannel.1 VXLAN (nolearning, MTU 1450) + permanent neighbour + FDB;
 *   plus the rules flanneld installs with --ip-masq (the default of its
 *   manifest): the masquerade chain and the forward accepts, in nftables.
 *   weft-hostgw-nomasq / weft-vxlan-nomasq — diagnostics: Weft with masquerade
 *   off (no NAT hook in the node, so no conntrack on pod packets).
 * Pods are plain netns with a veth on the node bridge, plumbed the same way for
 * every variant (the CNI plugin is not on the data path once a pod exists).
 */

export type VariantName =
  | 'weft-hostgw'
  | 'weft-vxlan'
  | 'hand-hostgw'
  | 'hand-vxlan'
  | 'weft-hostgw-nomasq'
  | 'weft-vxlan-nomasq';

export const VARIANTS: readonly VariantName[] = [
  'weft-hostgw',
  'weft-vxlan',
  'hand-hostgw',
  'hand-vxlan',
  'weft-hostgw-nomasq',
  'weft-vxlan-nomasq',
];

/** This run's namespace prefix (`wtbn<tag>`, see lib/run-tag.ts). */
export function nsPrefix(): string {
  return benchNames(benchTag()).datapathPrefix;
}

export interface Endpoint {
  readonly ns: string;
  readonly ip: string;
}

export interface Variant {
  readonly name: VariantName;
  readonly set: NetnsSet;
  readonly topology: Topology;
  /** Pod MTU used for this variant's pods. */
  readonly podMtu: number;
  /** Node n1 underlay, two pods on n1 (a, b) and one pod on n2 (c). */
  readonly node1: Endpoint;
  readonly node2: Endpoint;
  readonly podA: Endpoint;
  readonly podB: Endpoint;
  readonly podC: Endpoint;
}

const SHORT: Record<VariantName, string> = {
  'weft-hostgw': 'wg',
  'weft-vxlan': 'wv',
  'hand-hostgw': 'hg',
  'hand-vxlan': 'hv',
  'weft-hostgw-nomasq': 'wn',
  'weft-vxlan-nomasq': 'wx',
};

/**
 * flanneld's --ip-masq rules for cluster 10.244.0.0/16 and node subnet `own`,
 * in nftables form (what iptables-nft makes of them): pod↔pod returns, pod→out
 * masquerades (not multicast), out→other node's pods masquerades; the forward
 * chain accepts pod traffic both ways.
 */
export function flannelRules(own: number): string {
  return [
    'table ip flannel {',
    '  chain postrtg {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    '    ip saddr 10.244.0.0/16 ip daddr 10.244.0.0/16 return',
    '    ip saddr 10.244.0.0/16 ip daddr != 224.0.0.0/4 masquerade fully-random',
    `    ip saddr != 10.244.0.0/16 ip daddr 10.244.${own}.0/24 return`,
    '    ip saddr != 10.244.0.0/16 ip daddr 10.244.0.0/16 masquerade fully-random',
    '  }',
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    '    ip saddr 10.244.0.0/16 accept',
    '    ip daddr 10.244.0.0/16 accept',
    '  }',
    '}',
    '',
  ].join('\n');
}

const HAND_VTEP_MAC = { n1: '02:77:62:00:00:01', n2: '02:77:62:00:00:02' } as const;

/** Plumbs a pod netns: veth eth0 ↔ `hostIf` on `bridge` in `nodeNs`, address and default route. */
export async function addPod(
  set: NetnsSet,
  nodeNs: string,
  bridge: string,
  suffix: string,
  cidrAddr: string,
  gateway: string,
  mtu: number,
): Promise<Endpoint> {
  const pod = await set.create(suffix);
  const hostIf = `v${suffix}`;
  await addVethPair(nodeNs, hostIf, pod, 'eth0');
  await nsIpBatch(nodeNs, [`link set ${hostIf} mtu ${mtu}`, `link set ${hostIf} master ${bridge}`]);
  await nsIpBatch(pod, [
    `link set eth0 mtu ${mtu}`,
    `addr add ${cidrAddr} dev eth0`,
    `route add default via ${gateway}`,
  ]);
  return { ns: pod, ip: cidrAddr.split('/')[0] as string };
}

/** The real agent datapath on n1 and n2 (each with the other as peer); returns the pod MTU. */
export async function setUpWeft(t: Topology, config: DatapathConfig): Promise<number> {
  const backend = config.backend;
  const r1 = await t.n1.datapath.sync(t.n1.self, [t.n2.self], config);
  const r2 = await t.n2.datapath.sync(t.n2.self, [t.n1.self], config);
  if (r1.mtu !== r2.mtu)
    throw new Error(`Weft ${backend}: pod MTU differs between nodes (${r1.mtu} vs ${r2.mtu})`);
  return r1.mtu;
}

async function setUpHand(t: Topology, backend: 'hostgw' | 'vxlan'): Promise<number> {
  const mtu = backend === 'vxlan' ? 1450 : 1500;
  const nodes = [
    {
      ns: t.n1.ns,
      ip: '192.168.71.1',
      own: 1,
      peer: 2,
      peerIp: '192.168.71.2',
      mac: HAND_VTEP_MAC.n1,
      peerMac: HAND_VTEP_MAC.n2,
    },
    {
      ns: t.n2.ns,
      ip: '192.168.71.2',
      own: 2,
      peer: 1,
      peerIp: '192.168.71.1',
      mac: HAND_VTEP_MAC.n2,
      peerMac: HAND_VTEP_MAC.n1,
    },
  ];
  for (const n of nodes) {
    await nsRun(n.ns, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
    const lines = [
      'link add cni0 type bridge',
      `link set cni0 mtu ${mtu}`,
      `addr add 10.244.${n.own}.1/24 dev cni0`,
      'link set cni0 up',
    ];
    if (backend === 'hostgw') {
      lines.push(`route add 10.244.${n.peer}.0/24 via ${n.peerIp} dev eth0`);
    } else {
      lines.push(
        `link add flannel.1 address ${n.mac} mtu ${mtu} type vxlan id 1 local ${n.ip} dev eth0 dstport 8472 nolearning`,
        `addr add 10.244.${n.own}.0/32 dev flannel.1`,
        'link set flannel.1 up',
        `neigh replace 10.244.${n.peer}.0 lladdr ${n.peerMac} dev flannel.1 nud permanent`,
        `route add 10.244.${n.peer}.0/24 via 10.244.${n.peer}.0 dev flannel.1 onlink`,
      );
    }
    await nsIpBatch(n.ns, lines);
    await run('ip', ['netns', 'exec', n.ns, 'nft', '-f', '-'], flannelRules(n.own));
    if (backend === 'vxlan') {
      await run('bridge', ['-n', n.ns, 'fdb', 'append', n.peerMac, 'dev', 'flannel.1', 'dst', n.peerIp]);
    }
  }
  return mtu;
}

/** Builds one variant: topology, node datapath (Weft or by hand) and three pods. */
export async function buildVariant(name: VariantName, prefix = nsPrefix()): Promise<Variant> {
  const set = new NetnsSet(`${prefix}-${SHORT[name]}`);
  await set.cleanup();
  try {
    const topology = await buildTopology(set);
    const [kind, backend, option] = name.split('-') as [
      'weft' | 'hand',
      'hostgw' | 'vxlan',
      string | undefined,
    ];
    const podMtu =
      kind === 'weft'
        ? await setUpWeft(topology, testConfig(backend, { masquerade: option !== 'nomasq' }))
        : await setUpHand(topology, backend);
    const bridge = kind === 'weft' ? 'weft0' : 'cni0';
    const { n1, n2 } = topology;
    const podA = await addPod(set, n1.ns, bridge, 'pa', '10.244.1.10/24', '10.244.1.1', podMtu);
    const podB = await addPod(set, n1.ns, bridge, 'pb', '10.244.1.11/24', '10.244.1.1', podMtu);
    const podC = await addPod(set, n2.ns, bridge, 'pc', '10.244.2.10/24', '10.244.2.1', podMtu);
    return {
      name,
      set,
      topology,
      podMtu,
      node1: { ns: n1.ns, ip: '192.168.71.1' },
      node2: { ns: n2.ns, ip: '192.168.71.2' },
      podA,
      podB,
      podC,
    };
  } catch (err) {
    await set.cleanup();
    throw err;
  }
}

/** Removes the namespaces `<prefix>-<short>-*` for every short name; safe to repeat. */
export async function cleanupSets(prefix: string, shorts: readonly string[]): Promise<void> {
  for (const short of shorts) await new NetnsSet(`${prefix}-${short}`).cleanup();
}

/** Runs `build`; when it fails, removes what it made of `set` and rethrows. */
export async function cleanedUpOnError<T>(set: NetnsSet, build: () => Promise<T>): Promise<T> {
  try {
    return await build();
  } catch (err) {
    await set.cleanup();
    throw err;
  }
}

/** Removes every namespace of one run's variants (`<prefix>-<variant>-*`); safe to repeat. */
export async function cleanupAllVariants(prefix = nsPrefix()): Promise<void> {
  await cleanupSets(prefix, Object.values(SHORT));
}

/** Kernel facts of a variant's node n1 that explain a throughput gap: MTUs, offloads, rp_filter, nft. */
export async function describeVariant(v: Variant): Promise<Record<string, unknown>> {
  const ns = v.node1.ns;
  const read = async (cmd: string, args: string[]) =>
    (await nsRun(ns, cmd, args).catch((e: Error) => e.message)).trim();
  const links = await read('ip', ['-d', '-o', 'link', 'show']);
  const nft = await read('nft', ['list', 'ruleset']);
  const offloads = await read('ethtool', ['-k', 'eth0']);
  return {
    podMtu: v.podMtu,
    links: links.split('\n').map((l) => l.replace(/\\\s+/g, ' ').replace(/\s+/g, ' ')),
    rpFilter: {
      all: await read('sysctl', ['-n', 'net.ipv4.conf.all.rp_filter']),
      eth0: await read('sysctl', ['-n', 'net.ipv4.conf.eth0.rp_filter']),
    },
    nftRules:
      nft === ''
        ? 0
        : nft
            .split('\n')
            .filter((l) =>
              /^\s+(ip|meta|oifname|iifname|counter|masquerade|ct|fib|return|accept|drop)/.test(l),
            ).length,
    nftRuleset: nft,
    eth0Offloads: offloads
      .split('\n')
      .filter((l) =>
        /^(tcp-segmentation-offload|generic-segmentation-offload|generic-receive-offload|tx-checksumming|rx-checksumming|tx-udp_tnl-segmentation):/.test(
          l,
        ),
      ),
  };
}
