/**
 * The IPv6 sysctls of a node with IPv6 pods (ADR 18). Keys with a device name use the
 * slash form, which sysctl takes for names that hold a dot ("net/ipv6/conf/eth0.100/…").
 */

/** Forwarding for IPv6: the node routes its pods' IPv6 traffic. Also sets every device's and the default. */
export const IP6_FORWARD = 'net.ipv6.conf.all.forwarding';

export const acceptRaKey = (dev: string): string => `net/ipv6/conf/${dev}/accept_ra`;
export const forwardingKey6 = (dev: string): string => `net/ipv6/conf/${dev}/forwarding`;

/** accept_ra=2: router advertisements are accepted even while the device forwards. */
export const ACCEPT_RA_WHILE_FORWARDING = '2';

/**
 * What desired() asks for, in the order they must be written: `accept_ra=2` on the underlay
 * interface before forwarding goes on. Turning forwarding on makes the kernel ignore router
 * advertisements on devices with accept_ra=1 and, at that moment, drop the default routes it
 * learnt from them (rt6_purge_dflt_routers spares only devices with accept_ra=2): a node whose
 * IPv6 underlay is configured by the kernel's SLAAC would lose its IPv6 default route and, when
 * the lifetimes run out, its addresses. Whether accept_ra is really written is decided against
 * the kernel's values (keepRouterAdvertisements): only where the interface accepts them now.
 */
export function ipv6Sysctls(underlayIface: string): Map<string, string> {
  return new Map([
    [acceptRaKey(underlayIface), ACCEPT_RA_WHILE_FORWARDING],
    [IP6_FORWARD, '1'],
  ]);
}

/** The device whose accept_ra `sysctls` asks for, if any. */
function acceptRaDevice(sysctls: ReadonlyMap<string, string>): string | undefined {
  for (const key of sysctls.keys()) {
    const m = /^net\/ipv6\/conf\/(.+)\/accept_ra$/.exec(key);
    if (m) return m[1];
  }
  return undefined;
}

/** The extra keys observe must read for keepRouterAdvertisements (the device's forwarding). */
export function routerAdvertisementKeys(sysctls: ReadonlyMap<string, string>): string[] {
  const dev = acceptRaDevice(sysctls);
  return dev === undefined ? [] : [forwardingKey6(dev)];
}

/**
 * `sysctls` without the underlay's accept_ra unless the interface takes router advertisements
 * now — accept_ra 2, or 1 while it does not forward yet — so nothing that did not use them
 * starts to (accept_ra 0: a static IPv6 setup; 1 on a device that already forwards: ignored
 * until now, and left so). Once set to 2 it reads as 2 and stays wanted.
 */
export function keepRouterAdvertisements(
  sysctls: ReadonlyMap<string, string>,
  observed: ReadonlyMap<string, string>,
): ReadonlyMap<string, string> {
  const dev = acceptRaDevice(sysctls);
  if (dev === undefined) return sysctls;
  const ra = observed.get(acceptRaKey(dev));
  const accepting =
    ra === ACCEPT_RA_WHILE_FORWARDING || (ra === '1' && observed.get(forwardingKey6(dev)) !== '1');
  if (accepting) return sysctls;
  const kept = new Map(sysctls);
  kept.delete(acceptRaKey(dev));
  return kept;
}
