import { createHash } from 'node:crypto';
import { parseIpv4 } from '../../../common/cidr.js';
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

/** The pod interface MAC: 0a:58 followed by the IPv4 address (unique as long as the address is). */
export function podMac(ipv4: string): string {
  const n = parseIpv4(ipv4);
  const bytes = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  return ['0a', '58', ...bytes.map((x) => x.toString(16).padStart(2, '0'))].join(':');
}
