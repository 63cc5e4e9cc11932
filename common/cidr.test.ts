import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  cidrContains,
  cidrContainsCidr,
  cidrsOverlap,
  formatCidr,
  formatIpv4,
  nthAddress,
  nthSubnet,
  parseCidr,
  parseIpv4,
} from './cidr.js';

describe('cidr', () => {
  it('parses and formats addresses', () => {
    for (const a of ['0.0.0.0', '10.244.1.1', '255.255.255.255', '192.168.0.10']) {
      assert.equal(formatIpv4(parseIpv4(a)), a);
    }
  });
  it('rejects bad addresses with the input in the message', () => {
    for (const a of ['', '1.2.3', '1.2.3.256', 'a.b.c.d', '1.2.3.4.5', '01.2.3.4x']) {
      assert.throws(() => parseIpv4(a), /not an IPv4 address/);
    }
  });
  it('parses CIDRs strictly or leniently', () => {
    assert.equal(formatCidr(parseCidr('10.244.0.0/16')), '10.244.0.0/16');
    assert.throws(() => parseCidr('10.244.1.5/16'), /host bits set/);
    assert.equal(formatCidr(parseCidr('10.244.1.5/16', false)), '10.244.0.0/16');
    assert.equal(formatCidr(parseCidr('0.0.0.0/0')), '0.0.0.0/0');
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/8/9', '10.0.0.0/ab']) {
      assert.throws(() => parseCidr(bad), /CIDR|prefix/);
    }
  });
  it('answers containment and overlap', () => {
    const cluster = parseCidr('10.244.0.0/16');
    const node = parseCidr('10.244.3.0/24');
    assert.ok(cidrContains(cluster, parseIpv4('10.244.255.1')));
    assert.ok(!cidrContains(cluster, parseIpv4('10.245.0.1')));
    assert.ok(cidrContainsCidr(cluster, node));
    assert.ok(!cidrContainsCidr(node, cluster));
    assert.ok(cidrsOverlap(node, cluster));
    assert.ok(!cidrsOverlap(node, parseCidr('10.244.4.0/24')));
  });
  it('indexes addresses and subnets', () => {
    const node = parseCidr('10.244.3.0/24');
    assert.equal(formatIpv4(nthAddress(node, 1)), '10.244.3.1');
    assert.throws(() => nthAddress(node, 256), /outside/);
    assert.equal(formatCidr(nthSubnet(parseCidr('10.244.0.0/16'), 24, 7)), '10.244.7.0/24');
    assert.throws(() => nthSubnet(parseCidr('10.244.0.0/16'), 24, 256), /outside/);
  });
});
