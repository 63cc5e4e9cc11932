import { errorMessage } from '../../../common/errors.js';
import { type CniContext, requireLocalNetwork } from './context.js';
import { CniCode, CniError } from './errors.js';
import { Ipam } from './ipam.js';
import { formatGateway, type IpamRange } from './ipam-range.js';
import type { Allocation } from './ipam-state.js';
import { hostVethMac, hostVethName, podMac } from './names.js';
import type { WeftNetConf } from './netconf.js';
import type { PodAttachment } from './request.js';
import { type CniResult, formatResult } from './result.js';
import type { PodWiring } from './veth-plumbing.js';

/** Pure: the wiring for an attachment given its addresses. */
export function computeWiring(
  a: PodAttachment,
  allocation: Allocation,
  ranges: readonly IpamRange[],
  bridge: string,
  mtu: number,
): PodWiring {
  return {
    netns: a.netns,
    ifname: a.ifname,
    podMac: podMac(allocation.ips[0] ?? '0.0.0.0'),
    hostVeth: hostVethName(a),
    hostMac: hostVethMac(a),
    bridge,
    mtu,
    addresses: allocation.ips.map((ip, i) => `${ip}/${ranges[i]?.prefix ?? 32}`),
    gateways: ranges.map(formatGateway),
  };
}

/** Pure: the ADD result, appended to a prevResult when there is one. */
export function computeAddResult(w: PodWiring, prev: CniResult | undefined): CniResult {
  const base = prev?.interfaces.length ?? 0;
  return {
    interfaces: [
      ...(prev?.interfaces ?? []),
      { name: w.hostVeth, mac: w.hostMac },
      { name: w.ifname, mac: w.podMac, mtu: w.mtu, sandbox: w.netns },
    ],
    ips: [
      ...(prev?.ips ?? []),
      ...w.addresses.map((address, i) => ({
        address,
        ...(w.gateways[i] !== undefined && { gateway: w.gateways[i] }),
        interface: base + 1,
      })),
    ],
    routes: [...(prev?.routes ?? []), ...w.gateways.map((gw) => ({ dst: '0.0.0.0/0', gw }))],
    dns: prev?.dns ?? {},
  };
}

/**
 * ADD: address from IPAM (persisted first), then the veth pair. A second ADD of a
 * live attachment is an error; an allocation left by an interrupted ADD (no veth)
 * is reused. On failure the veth is removed and the address released.
 */
export async function cmdAdd(ctx: CniContext, conf: WeftNetConf, a: PodAttachment): Promise<object> {
  const { net, ranges } = requireLocalNetwork(ctx);
  const ipam = await ctx.ipams.get(conf.name);
  return ctx.locks.run(a, async () => {
    const hostVeth = hostVethName(a);
    let allocation = ipam.lookup(a);
    if (allocation) {
      if (await ctx.plumbing.observeHostVeth(hostVeth))
        throw new CniError(
          CniCode.alreadyAttached,
          'container already attached',
          `${a.containerId} ${a.ifname} already has ${allocation.ips.join(', ')} on ${hostVeth}`,
        );
      if (!Ipam.fits(allocation, ranges)) await ipam.release(a);
      else ctx.log.info({ op: 'add', dev: hostVeth }, 'reusing the address of an interrupted ADD');
    }
    if (!allocation || !Ipam.fits(allocation, ranges)) allocation = await ipam.allocate(a, ranges);
    const wiring = computeWiring(a, allocation, ranges, net.bridge, net.mtu);
    try {
      await ctx.plumbing.applyWiring(wiring);
    } catch (err) {
      await ipam
        .release(a)
        .catch((e: unknown) => ctx.log.error({ op: 'add', err: e }, 'cannot release address'));
      throw new CniError(
        CniCode.plumbingFailed,
        'cannot set up the pod interface',
        `${a.ifname} in ${a.netns}: ${errorMessage(err)}`,
        { cause: err },
      );
    }
    return formatResult(computeAddResult(wiring, conf.prevResult), conf.cniVersion);
  });
}
