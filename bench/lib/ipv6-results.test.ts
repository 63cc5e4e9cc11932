import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkConnected,
  emptyV6Samples,
  encapsulated,
  pairOrder,
  parseIpv6Args,
  summarizeV6Samples,
} from './ipv6-results.js';
import type { CapturedPacket } from './underlay-capture.js';

/** An Ethernet + IPv4 + UDP + VXLAN frame around an inner Ethernet frame of `innerType` and length `inner`. */
function vxlanFrame(innerType: number, inner: number, dstPort = 8472): CapturedPacket {
  const b = Buffer.alloc(14 + 20 + 8 + 8 + 14 + 40);
  b.writeUInt16BE(0x0800, 12);
  b[14] = 0x45;
  b.writeUInt16BE(inner + 50, 16);
  const l3 = 14 + 20 + 8 + 8 + 14;
  b.writeUInt16BE(innerType, l3 - 2);
  if (innerType === 0x86dd) b.writeUInt16BE(inner - 40, l3 + 4);
  else b.writeUInt16BE(inner, l3 + 2);
  return { src: '192.168.71.1', dst: '192.168.71.2', proto: 'udp', srcPort: 40000, dstPort, bytes: b };
}

describe('dual-stack benchmark results', () => {
  it('flags: quick is one 1 s repetition, full ten of 5 s', () => {
    assert.deepEqual(parseIpv6Args(['--quick']), { quick: true, reps: 1, seconds: 1 });
    assert.deepEqual(parseIpv6Args([]), { quick: false, reps: 10, seconds: 5 });
  });

  it('pairs alternate which family and backend go first', () => {
    assert.deepEqual(pairOrder(0), { backends: ['hostgw', 'vxlan'], families: ['ipv4', 'ipv6'] });
    assert.deepEqual(pairOrder(1), { backends: ['vxlan', 'hostgw'], families: ['ipv6', 'ipv4'] });
  });

  it('IPv6 ÷ IPv4 is taken within each pair, then summarised', () => {
    const s = emptyV6Samples();
    s.vxlan.ipv4.tcp1Gbps.push(4, 8, 6);
    s.vxlan.ipv6.tcp1Gbps.push(2, 8, 5.4);
    const r = summarizeV6Samples(s);
    assert.deepEqual(r.ipv6OverIpv4.vxlan.tcp1Gbps, { median: 0.9, min: 0.5, max: 1, n: 3 });
    assert.equal(r.backends.vxlan.ipv6.tcp1Gbps.median, 5.4);
  });

  it('every iperf3 connection must go between the family addresses', () => {
    const ok = [{ local: 'fd00:10:244:1::10', remote: 'fd00:10:244:2::10' }];
    checkConnected('x', ok, 'fd00:10:244:1::10', 'fd00:10:244:2::10');
    assert.throws(
      () => checkConnected('x', ok, '10.244.1.10', '10.244.2.10'),
      /connected fd00:10:244:1::10 → fd00:10:244:2::10, want 10.244.1.10 → 10.244.2.10/,
    );
    assert.throws(() => checkConnected('x', undefined, 'a', 'b'), /no connection/);
  });

  it('reads outer and inner lengths of VXLAN packets of both families', () => {
    const got = encapsulated(
      [vxlanFrame(0x86dd, 1450), vxlanFrame(0x0800, 1450), vxlanFrame(0x0800, 84, 53)],
      8472,
    );
    assert.deepEqual(got, [
      { family: 'ipv6', outerBytes: 1500, innerBytes: 1450, overhead: 50 },
      { family: 'ipv4', outerBytes: 1500, innerBytes: 1450, overhead: 50 },
    ]);
  });
});
