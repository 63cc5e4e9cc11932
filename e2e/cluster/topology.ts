import {
  type ClusterPlan,
  CONTROL_PLANE_IP,
  CONTROL_PLANE_IP6,
  EXTERNAL,
  EXTERNAL6,
  hasIPv4,
  hasIPv6,
  SUBNET_A,
  SUBNET_A6,
  subnet6Of,
  UNDERLAY_IFACE,
  UNDERLAY_SUPERNET,
  UNDERLAY_SUPERNET6,
} from './plan.js';

/**
 * The `ip`/`sysctl` commands that build a plan's underlay, in order (pure).
 * Nothing is created in the root namespace: veth pairs are made inside the router
 * namespace with the peer placed straight into its target namespace.
 * Namespaces themselves are added beforehand (one by one, so a crash leaves a record).
 */
export function planTopologyCommands(plan: ClusterPlan): string[][] {
  const rt = plan.routerNetns;
  // IPv6-only ('ipv6'): no IPv4 address, route or sysctl anywhere in the cluster's namespaces.
  const v4 = hasIPv4(plan.ipFamily);
  const v6 = hasIPv6(plan.ipFamily);
  const cmds: string[][] = [
    ['ip', '-n', rt, 'link', 'set', 'lo', 'up'],
    ...(v4 ? [sysctl(rt, 'net.ipv4.ip_forward', '1')] : []),
    ...(v6 ? [sysctl(rt, 'net.ipv6.conf.all.forwarding', '1')] : []),
  ];
  // plan.subnets are of the primary family: IPv4 unless the cluster is IPv6-only.
  for (const s of plan.subnets) {
    cmds.push(
      ['ip', '-n', rt, 'link', 'add', s.bridge, 'type', 'bridge'],
      ...(v4 ? [['ip', '-n', rt, 'addr', 'add', `${s.gateway}/${s.prefix}`, 'dev', s.bridge]] : []),
      ...(v6 ? [['ip', '-n', rt, ...addr6(subnet6Of(s).gateway, s.bridge)]] : []),
      ['ip', '-n', rt, 'link', 'set', s.bridge, 'up'],
    );
  }
  cmds.push(
    ...planHostLink(plan, plan.controlPlaneNetns, plan.controlPlane.routerPort, SUBNET_A.bridge, [
      ...(v4
        ? [
            ['addr', 'add', `${CONTROL_PLANE_IP}/${SUBNET_A.prefix}`, 'dev', UNDERLAY_IFACE],
            ['route', 'add', 'default', 'via', SUBNET_A.gateway],
          ]
        : []),
      ...(v6
        ? [
            addr6(CONTROL_PLANE_IP6, UNDERLAY_IFACE),
            ['-6', 'route', 'add', 'default', 'via', SUBNET_A6.gateway],
          ]
        : []),
    ]),
  );
  for (const n of plan.nodes) {
    cmds.push(
      ...planHostLink(plan, n.netns, n.routerPort, n.bridge, [
        ...(v4
          ? [
              ['addr', 'add', `${n.ip}/24`, 'dev', UNDERLAY_IFACE],
              ['route', 'add', 'default', 'via', n.gateway],
            ]
          : []),
        ...(n.ip6 && n.gateway6
          ? [addr6(n.ip6, UNDERLAY_IFACE), ['-6', 'route', 'add', 'default', 'via', n.gateway6]]
          : []),
      ]),
      ...(v4 ? [sysctl(n.netns, 'net.ipv4.ip_forward', '1')] : []),
    );
  }
  // External host: routed (not bridged) link to the router; it knows the way back to the
  // underlay, never to pod CIDRs, so only masqueraded pod traffic gets an answer.
  const ext = plan.externalNetns;
  cmds.push(
    [
      'ip',
      '-n',
      rt,
      'link',
      'add',
      plan.external.routerPort,
      'type',
      'veth',
      'peer',
      'name',
      UNDERLAY_IFACE,
      'netns',
      ext,
    ],
    ['ip', '-n', rt, 'link', 'set', plan.external.routerPort, 'up'],
    ['ip', '-n', ext, 'link', 'set', 'lo', 'up'],
    ['ip', '-n', ext, 'link', 'set', UNDERLAY_IFACE, 'up'],
  );
  if (v4) {
    cmds.push(
      [
        'ip',
        '-n',
        rt,
        'addr',
        'add',
        `${EXTERNAL.routerIp}/${EXTERNAL.prefix}`,
        'dev',
        plan.external.routerPort,
      ],
      ['ip', '-n', ext, 'addr', 'add', `${EXTERNAL.ip}/${EXTERNAL.prefix}`, 'dev', UNDERLAY_IFACE],
      ['ip', '-n', ext, 'route', 'add', UNDERLAY_SUPERNET, 'via', EXTERNAL.routerIp],
    );
  }
  if (v6) {
    cmds.push(
      ['ip', '-n', rt, ...addr6(EXTERNAL6.routerIp, plan.external.routerPort, EXTERNAL6.prefix)],
      ['ip', '-n', ext, ...addr6(EXTERNAL6.ip, UNDERLAY_IFACE, EXTERNAL6.prefix)],
      ['ip', '-n', ext, '-6', 'route', 'add', UNDERLAY_SUPERNET6, 'via', EXTERNAL6.routerIp],
    );
  }
  return cmds;
}

/**
 * `addr add <ip>/<len> dev <dev> nodad`: the addresses are unique by plan, and without duplicate
 * address detection they are usable at once (no "tentative" second that fails the first pings).
 */
function addr6(ip: string, dev: string, prefix = 64): string[] {
  return ['addr', 'add', `${ip}/${prefix}`, 'dev', dev, 'nodad'];
}

/** A veth from the router's bridge `bridge` to `UNDERLAY_IFACE` inside `netns`, plus its own addressing. */
function planHostLink(
  plan: ClusterPlan,
  netns: string,
  routerPort: string,
  bridge: string,
  inner: string[][],
): string[][] {
  const rt = plan.routerNetns;
  return [
    [
      'ip',
      '-n',
      rt,
      'link',
      'add',
      routerPort,
      'type',
      'veth',
      'peer',
      'name',
      UNDERLAY_IFACE,
      'netns',
      netns,
    ],
    ['ip', '-n', rt, 'link', 'set', routerPort, 'master', bridge],
    ['ip', '-n', rt, 'link', 'set', routerPort, 'up'],
    ['ip', '-n', netns, 'link', 'set', 'lo', 'up'],
    ['ip', '-n', netns, 'link', 'set', UNDERLAY_IFACE, 'up'],
    ...inner.map((args) => ['ip', '-n', netns, ...args]),
  ];
}

function sysctl(netns: string, key: string, value: string): string[] {
  return ['ip', 'netns', 'exec', netns, 'sysctl', '-q', '-w', `${key}=${value}`];
}
