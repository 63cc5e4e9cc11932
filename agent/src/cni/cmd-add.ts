import { errorMessage } from '../../../common/errors.js';
import { ipFamilyOf, parseIp } from '../../../common/ip.js';
import { PodGateError } from '../pod-gate.js';
import { type CniContext, requireLocalNetwork } from './context.js';
import { CniCode, CniError } from './errors.js';
import { Ipam } from './ipam.js';
import { formatGateway, type IpamRange, rangeContains } from './ipam-range.js';
import { type Allocation, attachmentKey } from './ipam-state.js';
import { hostVethMac, hostVethName, podMac } from './names.js';
import type { WeftNetConf } from './netconf.js';
import type { PodAttachment } from './request.js';
import { type CniResult, formatResult } from './result.js';
import type { PodWiring } from './veth-plumbing.js';

/** Pure: the wiring for an attachment given its addresses (one per range, the allocation fits them). */
export function computeWiring(
  a: PodAttachment,
  allocation: Allocation,
  ranges: readonly IpamRange[],
  bridge: string,
  mtu: number,
): PodWiring {
  const held = ranges.flatMap((r) => {
    const ip = allocation.ips.find((text) => rangeContains(r, parseIp(text)));
    return ip === undefined ? [] : [{ address: `${ip}/${r.prefix}`, gateway: formatGateway(r) }];
  });
  return {
    netns: a.netns,
    ifname: a.ifname,
    podMac: podMac(allocation.ips.find((ip) => ipFamilyOf(ip) === 4) ?? allocation.ips[0] ?? '0.0.0.0'),
    hostVeth: hostVethName(a),
    hostMac: hostVethMac(a),
    bridge,
    mtu,
    addresses: held.map((h) => h.address),
    gateways: held.map((h) => h.gateway),
  };
}

/** The default route of a gateway's family. */
function defaultRouteVia(gw: string): { dst: string; gw: string } {
  return { dst: ipFamilyOf(gw) === 6 ? '::/0' : '0.0.0.0/0', gw };
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
    routes: [...(prev?.routes ?? []), ...w.gateways.map(defaultRouteVia)],
    dns: prev?.dns ?? {},
  };
}

/**
 * ADD: address from IPAM (persisted first), then the veth pair, then — for a
 * Kubernetes pod — the pod gate (its network policy verdict in force, ADR 13).
 * A second ADD of a live attachment is an error; an allocation left by an
 * interrupted ADD (no veth) is reused. On failure the veth is removed and the
 * address released, so a retried ADD starts clean.
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
    const undo = async (veth: boolean) => {
      if (veth)
        await ctx.plumbing
          .deleteHostVeth(hostVeth)
          .catch((e: unknown) => ctx.log.error({ op: 'add', dev: hostVeth, err: e }, 'cannot remove veth'));
      await ipam
        .release(a)
        .catch((e: unknown) => ctx.log.error({ op: 'add', err: e }, 'cannot release address'));
    };
    try {
      await ctx.plumbing.applyWiring(wiring);
    } catch (err) {
      await undo(false);
      throw new CniError(
        CniCode.plumbingFailed,
        'cannot set up the pod interface',
        `${a.ifname} in ${a.netns}: ${errorMessage(err)}`,
        { cause: err },
      );
    }
    if (a.pod) {
      const attachment = attachmentKey(a);
      try {
        await ctx.podGate.admit({ attachment, ...a.pod, ips: allocation.ips });
      } catch (err) {
        ctx.podGate.forget(attachment);
        await undo(true);
        throw gateError(err);
      }
    }
    return formatResult(computeAddResult(wiring, conf.prevResult), conf.cniVersion);
  });
}

/** A refused pod: 11, so the runtime retries the sandbox. */
function gateError(err: unknown): CniError {
  const details = err instanceof PodGateError ? err.details : errorMessage(err);
  return new CniError(CniCode.tryAgainLater, `try again later: ${errorMessage(err)}`, details, {
    cause: err,
  });
}
