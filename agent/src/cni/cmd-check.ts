import { formatIp, parseIpOrReason } from '../../../common/ip.js';
import { type CniContext, requireLocalNetwork } from './context.js';
import { CniCode, CniError } from './errors.js';
import type { Allocation } from './ipam-state.js';
import { hostVethName } from './names.js';
import type { WeftNetConf } from './netconf.js';
import type { PodAttachment } from './request.js';
import type { CniResult } from './result.js';
import type { ObservedPodInterface } from './veth-plumbing.js';

/** An address ("fd00::05") or address/length in canonical text, for comparing; as given when not one. */
function canonical(text: string): string {
  const [addr = '', ...rest] = text.split('/');
  const ip = parseIpOrReason(addr);
  return typeof ip === 'string' ? text : [formatIp(ip), ...rest].join('/');
}

/**
 * Pure: every way the observed state differs from prevResult and IPAM, one phrase
 * each. Every address and default route of prevResult is checked, so a
 * dual-stack pod is checked for both families and the phrase names the one missing.
 */
export function computeCheckProblems(
  a: PodAttachment,
  prev: CniResult,
  allocation: Allocation | undefined,
  pod: ObservedPodInterface,
  host: { master: string | undefined; up: boolean } | undefined,
  bridge: string,
): string[] {
  const problems: string[] = [];
  const hostVeth = hostVethName(a);
  const podAddresses = new Set(pod.addresses.map(canonical));
  const podGateways = new Set(pod.defaultGateways.map(canonical));
  const held = new Set(allocation?.ips.map(canonical));
  const podIndex = prev.interfaces.findIndex((i) => i.name === a.ifname && i.sandbox !== undefined);
  const expected = prev.ips.filter((ip) => ip.interface === undefined || ip.interface === podIndex);
  if (!allocation) problems.push(`no address is allocated to ${a.containerId} ${a.ifname}`);
  if (!pod.exists) problems.push(`interface ${a.ifname} not found in ${a.netns}`);
  else if (!pod.up) problems.push(`interface ${a.ifname} is down`);
  for (const ip of expected) {
    if (pod.exists && !podAddresses.has(canonical(ip.address)))
      problems.push(
        `address ${ip.address} missing on ${a.ifname} (has ${pod.addresses.join(', ') || 'none'})`,
      );
    const plain = ip.address.split('/')[0] ?? '';
    if (allocation && !held.has(canonical(plain)))
      problems.push(`address ${plain} is not the one IPAM holds (${allocation.ips.join(', ')})`);
  }
  for (const r of prev.routes) {
    if (r.gw === undefined || (r.dst !== '0.0.0.0/0' && r.dst !== '::/0')) continue;
    if (!podGateways.has(canonical(r.gw))) problems.push(`default route via ${r.gw} missing in ${a.netns}`);
  }
  if (!host) problems.push(`host interface ${hostVeth} not found`);
  else if (host.master !== bridge) problems.push(`host interface ${hostVeth} is not attached to ${bridge}`);
  else if (!host.up) problems.push(`host interface ${hostVeth} is down`);
  return problems;
}

/** CHECK: verifies the attachment against prevResult; the error names every problem found. */
export async function cmdCheck(ctx: CniContext, conf: WeftNetConf, a: PodAttachment): Promise<undefined> {
  const { net } = requireLocalNetwork(ctx);
  const ipam = await ctx.ipams.get(conf.name);
  const prev = conf.prevResult;
  if (!prev)
    throw new CniError(CniCode.invalidConfig, 'invalid network config', 'prevResult: required for CHECK');
  await ctx.locks.run(a, async () => {
    const [pod, host] = await Promise.all([
      ctx.plumbing.observePodInterface(a.netns, a.ifname),
      ctx.plumbing.observeHostVeth(hostVethName(a)),
    ]);
    const problems = computeCheckProblems(a, prev, ipam.lookup(a), pod, host, net.bridge);
    if (problems.length > 0)
      throw new CniError(CniCode.checkFailed, 'pod network check failed', problems.join('; '));
  });
  return undefined;
}
