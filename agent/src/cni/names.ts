import { createHash } from 'node:crypto';
import { parseIp } from '../../../common/ip.js';
import type { Attachment } from './netconf.js';

/** Host-side veth names are "weft" + 8 hex digits; nothing else Weft creates matches. */
export const HOST_VETH_PATTERN = /^weft[0-9a-f]{8}$/;

function digest(a: Attachment): Buffer {
  return createHash('sha256')
    .update(a.containerId + a.ifname)
    .digest();
}

/** "weft" + the first 8 hex digits of sha256(containerId + ifname). */
export function hostVethName(a: Attachment): string {
  return `weft${digest(a).subarray(0, 4).toString('hex')}`;
}

/** Locally administered unicast MAC for the host end, stable per attachment. */
export function hostVethMac(a: Attachment): string {
  const b = digest(a).subarray(4, 9);
  return ['0e', ...[...b].map((x) => x.toString(16).padStart(2, '0'))].join(':');
}

/**
 * The pod interface MAC: 0a:58 followed by the IPv4 address (unique as long as the address is),
 * or on a pod without one (IPv6-only, ADR 19) by the last 32 bits of its IPv6 address: IPAM
 * hands out a /64 from its start, round robin, so two live pods share those bits only after
 * 2^32 allocations have wrapped around onto a pod still running.
 */
export function podMac(ip: string): string {
  const parsed = parseIp(ip);
  const n = Number(parsed.value & 0xffff_ffffn);
  const bytes = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  return ['0a', '58', ...bytes.map((x) => x.toString(16).padStart(2, '0'))].join(':');
}
