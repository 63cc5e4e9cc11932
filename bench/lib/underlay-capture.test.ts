import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIpv4 } from '../../common/cidr.js';
import { type CapturedPacket, judgeCapture, parsePcap } from './underlay-capture.js';

/** An Ethernet + IPv4 + UDP frame from `src` to `dst`, with `payload` after the UDP header. */
function udpFrame(src: string, dst: string, sport: number, dport: number, payload = Buffer.alloc(16)) {
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(0x0800, 12);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip[9] = 17;
  ip.writeUInt32BE(parseIpv4(src) >>> 0, 12);
  ip.writeUInt32BE(parseIpv4(dst) >>> 0, 16);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(sport, 0);
  udp.writeUInt16BE(dport, 2);
  return Buffer.concat([eth, ip, udp, payload]);
}

function pcap(frames: Buffer[], bigEndian = false): Buffer {
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    if (bigEndian) b.writeUInt32BE(v);
    else b.writeUInt32LE(v);
    return b;
  };
  const header = Buffer.concat([u32(0xa1b2c3d4), Buffer.alloc(16), u32(1)]);
  const records = frames.map((f) => Buffer.concat([u32(0), u32(0), u32(f.length), u32(f.length), f]));
  return Buffer.concat([header, ...records]);
}

const NODES = ['172.28.2.13', '172.28.2.14'] as const;
const PODS = ['10.244.2.2', '10.244.3.2'] as const;
const input = { nodes: NODES, pods: PODS, podCIDRs: ['10.244.2.0/24', '10.244.3.0/24'] };
const innerHeader = () => {
  const inner = udpFrame(PODS[0], PODS[1], 40000, 7000);
  return Buffer.concat([Buffer.alloc(8), inner]); // VXLAN header, then the inner frame
};

describe('underlay capture', () => {
  it('reads IPv4 packets of a pcap in either byte order, skipping other frames', () => {
    const arp = Buffer.alloc(42);
    arp.writeUInt16BE(0x0806, 12);
    for (const be of [false, true]) {
      const [p, ...rest] = parsePcap(pcap([arp, udpFrame(NODES[0], NODES[1], 51820, 51820)], be));
      assert.deepEqual(rest, []);
      assert.deepEqual(
        { src: p?.src, dst: p?.dst, proto: p?.proto, sp: p?.srcPort, dp: p?.dstPort },
        { src: NODES[0], dst: NODES[1], proto: 'udp', sp: 51820, dp: 51820 },
      );
    }
    assert.throws(() => parsePcap(Buffer.alloc(10)), /shorter than its header/);
    assert.throws(() => parsePcap(Buffer.alloc(24)), /unknown magic/);
  });

  it('classifies packets between the nodes by protocol and service port', () => {
    const packets = parsePcap(
      pcap([
        udpFrame(NODES[0], NODES[1], 51820, 51820),
        udpFrame(NODES[1], NODES[0], 51820, 51820),
        udpFrame(NODES[0], NODES[1], 45000, 9743),
        udpFrame(NODES[0], '172.28.1.2', 45000, 6443),
      ]),
    );
    assert.deepEqual(judgeCapture(packets, input), {
      betweenNodes: 3,
      classes: { 'udp 51820': 2, 'udp 9743': 1 },
      podInClear: 0,
    });
  });

  it('finds pod addresses as outer addresses and as an inner header, not elsewhere', () => {
    const vxlan = udpFrame(NODES[0], NODES[1], 40001, 8472, innerHeader());
    const clear = udpFrame(PODS[0], PODS[1], 40000, 7000);
    // One pod's address alone in an encrypted payload is chance, not an inner header.
    const lone = udpFrame(NODES[0], NODES[1], 51820, 51820, innerHeader().subarray(0, 8 + 14 + 16));
    const v = judgeCapture(parsePcap(pcap([vxlan, clear, lone])), input);
    assert.equal(v.podInClear, 2);
    assert.deepEqual(v.classes, { 'udp 8472': 1, 'udp 51820': 1 });
    const none: CapturedPacket[] = [];
    assert.deepEqual(judgeCapture(none, input), { betweenNodes: 0, classes: {}, podInClear: 0 });
  });
});
