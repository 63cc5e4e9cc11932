/**
 * Is pod traffic between two nodes encrypted on the wire? A short capture on a
 * node's underlay interface (agent/test/ns/capture.ts), read back here: every
 * IPv4 packet between the two nodes is classified by protocol and ports, and
 * a packet "shows a pod in clear" when its outer addresses are in a pod CIDR
 * or its captured bytes hold the two pods' addresses side by side (an inner
 * IPv4 header, as a VXLAN packet carries it). The reading is pure.
 */
import { cidrContains, formatIpv4, parseCidr, parseIpv4 } from '../../common/cidr.js';

/** One captured IPv4 packet: outer addresses, protocol, ports (TCP/UDP), and its captured bytes. */
export interface CapturedPacket {
  readonly src: string;
  readonly dst: string;
  /** 'udp', 'tcp', 'icmp' or `ip-proto-N`. */
  readonly proto: string;
  readonly srcPort?: number;
  readonly dstPort?: number;
  readonly bytes: Buffer;
}

const PROTO: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp' };

/** The IPv4 packets of a pcap file (Ethernet link type); other frames are skipped. */
export function parsePcap(buf: Buffer): CapturedPacket[] {
  if (buf.length < 24) throw new Error(`pcap: ${buf.length} bytes, shorter than its header`);
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && buf.readUInt32BE(0) !== 0xa1b2c3d4 && buf.readUInt32BE(0) !== 0xa1b23c4d)
    throw new Error(`pcap: unknown magic ${magic.toString(16)}`);
  const u32 = (at: number) => (le ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
  if (u32(20) !== 1) throw new Error(`pcap: link type ${u32(20)}, want 1 (Ethernet)`);
  const out: CapturedPacket[] = [];
  for (let at = 24; at + 16 <= buf.length; ) {
    const caplen = u32(at + 8);
    const frame = buf.subarray(at + 16, at + 16 + caplen);
    at += 16 + caplen;
    if (frame.length < 34 || frame.readUInt16BE(12) !== 0x0800) continue;
    const ip = frame.subarray(14);
    const ihl = ((ip[0] as number) & 0x0f) * 4;
    const protoNo = ip[9] as number;
    const proto = PROTO[protoNo] ?? `ip-proto-${protoNo}`;
    const ports =
      (proto === 'udp' || proto === 'tcp') && ip.length >= ihl + 4
        ? { srcPort: ip.readUInt16BE(ihl), dstPort: ip.readUInt16BE(ihl + 2) }
        : {};
    out.push({
      src: formatIpv4(ip.readUInt32BE(12)),
      dst: formatIpv4(ip.readUInt32BE(16)),
      proto,
      ...ports,
      bytes: frame,
    });
  }
  return out;
}

export interface CaptureInput {
  /** The two nodes' underlay addresses. */
  readonly nodes: readonly [string, string];
  /** The measured pods' addresses (one on each node). */
  readonly pods: readonly [string, string];
  /** Every pod CIDR of the cluster (an outer address in one is pod traffic in clear). */
  readonly podCIDRs: readonly string[];
}

/** What a capture between two nodes held. */
export interface CaptureVerdict {
  /** Packets between the two nodes' addresses. */
  readonly betweenNodes: number;
  /** Those packets by protocol and the lower of their two ports (the service's), e.g. `udp 51820`. */
  readonly classes: Record<string, number>;
  /** Packets that show a pod address in clear (outer address, or the inner header's pair). */
  readonly podInClear: number;
}

const ipBytes = (ip: string) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(parseIpv4(ip) >>> 0);
  return b;
};

/** Classifies the packets between `nodes` and counts those that show a pod in clear. */
export function judgeCapture(packets: readonly CapturedPacket[], c: CaptureInput): CaptureVerdict {
  const cidrs = c.podCIDRs.map((x) => parseCidr(x, false));
  const inPods = (ip: string) => cidrs.some((x) => cidrContains(x, parseIpv4(ip)));
  const [a, b] = c.pods.map(ipBytes) as [Buffer, Buffer];
  const pairs = [Buffer.concat([a, b]), Buffer.concat([b, a])];
  const nodes = new Set(c.nodes);
  const classes: Record<string, number> = {};
  let betweenNodes = 0;
  let podInClear = 0;
  for (const p of packets) {
    const inner = pairs.some((pair) => p.bytes.indexOf(pair, 14 + 20) >= 0);
    if (inPods(p.src) || inPods(p.dst) || inner) podInClear++;
    if (!(nodes.has(p.src) && nodes.has(p.dst)) || p.src === p.dst) continue;
    betweenNodes++;
    const key = p.srcPort === undefined ? p.proto : `${p.proto} ${Math.min(p.srcPort, p.dstPort ?? 0)}`;
    classes[key] = (classes[key] ?? 0) + 1;
  }
  return { betweenNodes, classes, podInClear };
}
