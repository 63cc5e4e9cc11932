import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from './config-error.js';
import { parseNetConf } from './net-conf.js';

describe('parseNetConf', () => {
  it('applies defaults to a minimal config', () => {
    assert.deepEqual(parseNetConf('{"network":"10.244.0.0/16"}'), {
      clusterCIDRs: ['10.244.0.0/16'],
      backend: 'auto',
      vxlanVNI: 1,
      vxlanPort: 8472,
      encryption: 'none',
      wireguardPort: 51820,
      mtu: undefined,
      masquerade: true,
      nonMasqueradeCIDRs: [],
      resyncSeconds: 30,
      networkPolicy: true,
    });
  });

  it('reads every field', () => {
    const conf = parseNetConf(
      JSON.stringify({
        clusterCIDRs: ['10.244.0.0/16', '10.250.0.0/16'],
        backend: { type: 'vxlan', vni: 42, port: 4789 },
        mtu: 1400,
        masquerade: false,
        nonMasqueradeCIDRs: ['192.168.0.0/16'],
        resyncSeconds: 0.5,
        networkPolicy: false,
      }),
    );
    assert.deepEqual(conf, {
      clusterCIDRs: ['10.244.0.0/16', '10.250.0.0/16'],
      backend: 'vxlan',
      vxlanVNI: 42,
      vxlanPort: 4789,
      encryption: 'none',
      wireguardPort: 51820,
      mtu: 1400,
      masquerade: false,
      nonMasqueradeCIDRs: ['192.168.0.0/16'],
      resyncSeconds: 0.5,
      networkPolicy: false,
    });
    assert.equal(parseNetConf('{"network":"10.0.0.0/8","backend":{"type":"hostgw"}}').backend, 'hostgw');
  });

  it('reads WireGuard as a backend and as encryption with auto', () => {
    const wg = parseNetConf('{"network":"10.0.0.0/8","backend":{"type":"wireguard","port":51000}}');
    assert.deepEqual([wg.backend, wg.encryption, wg.wireguardPort], ['wireguard', 'all', 51000]);
    const cross = parseNetConf(
      '{"network":"10.0.0.0/8","encryption":{"type":"wireguard","peers":"crossSubnet","port":51001}}',
    );
    assert.deepEqual([cross.backend, cross.encryption, cross.wireguardPort], ['auto', 'crossSubnet', 51001]);
    const all = parseNetConf('{"network":"10.0.0.0/8","encryption":{"type":"wireguard"}}');
    assert.deepEqual([all.backend, all.encryption, all.wireguardPort], ['auto', 'all', 51820]);
    const vx = parseNetConf('{"network":"10.0.0.0/8","backend":{"type":"vxlan","port":4789}}');
    assert.deepEqual([vx.encryption, vx.vxlanPort, vx.wireguardPort], ['none', 4789, 51820]);
  });

  const bad: Array<[string, string, unknown]> = [
    ['{"network":"10.0.0.0/8","networkPolicy":"on"}', 'networkPolicy', 'on'],
    ['not json', 'net-conf', 'not json'],
    ['[]', 'net-conf', []],
    ['{}', 'clusterCIDRs', undefined],
    ['{"network":"10.244.0.0/16","clusterCIDRs":["10.0.0.0/8"]}', 'network', '10.244.0.0/16'],
    ['{"network":"10.244.1.5/16"}', 'network', '10.244.1.5/16'],
    ['{"network":42}', 'network', 42],
    ['{"clusterCIDRs":[]}', 'clusterCIDRs', []],
    ['{"clusterCIDRs":"10.0.0.0/8"}', 'clusterCIDRs', '10.0.0.0/8'],
    ['{"clusterCIDRs":["10.0.0.0/8","10.1.0.0/16"]}', 'clusterCIDRs[1]', '10.1.0.0/16'],
    ['{"clusterCIDRs":["10.0.0.0/8","banana"]}', 'clusterCIDRs[1]', 'banana'],
    ['{"network":"10.0.0.0/8","backend":{"type":"udp"}}', 'backend.type', 'udp'],
    ['{"network":"10.0.0.0/8","backend":"vxlan"}', 'backend', 'vxlan'],
    ['{"network":"10.0.0.0/8","backend":{"vni":0}}', 'backend.vni', 0],
    ['{"network":"10.0.0.0/8","backend":{"vni":16777216}}', 'backend.vni', 16_777_216],
    ['{"network":"10.0.0.0/8","backend":{"port":70000}}', 'backend.port', 70_000],
    ['{"network":"10.0.0.0/8","backend":{"Port":4789}}', 'backend.Port', 4789],
    ['{"network":"10.0.0.0/8","mtu":100}', 'mtu', 100],
    ['{"network":"10.0.0.0/8","mtu":1400.5}', 'mtu', 1400.5],
    ['{"network":"10.0.0.0/8","masquerade":"yes"}', 'masquerade', 'yes'],
    ['{"network":"10.0.0.0/8","nonMasqueradeCIDRs":["1.2.3.4"]}', 'nonMasqueradeCIDRs[0]', '1.2.3.4'],
    ['{"network":"10.0.0.0/8","resyncSeconds":0}', 'resyncSeconds', 0],
    ['{"network":"10.0.0.0/8","resyncSeconds":"30"}', 'resyncSeconds', '30'],
    ['{"network":"10.0.0.0/8","masquarade":false}', 'masquarade', false],
    ['{"network":"10.0.0.0/8","backend":{"type":"wireguard","vni":3}}', 'backend.vni', 3],
    ['{"network":"10.0.0.0/8","encryption":"wireguard"}', 'encryption', 'wireguard'],
    ['{"network":"10.0.0.0/8","encryption":{"type":"ipsec"}}', 'encryption.type', 'ipsec'],
    ['{"network":"10.0.0.0/8","encryption":{"type":"wireguard","peers":"some"}}', 'encryption.peers', 'some'],
    ['{"network":"10.0.0.0/8","encryption":{"type":"wireguard","port":0}}', 'encryption.port', 0],
    ['{"network":"10.0.0.0/8","encryption":{"type":"wireguard","key":"x"}}', 'encryption.key', 'x'],
    [
      '{"network":"10.0.0.0/8","backend":{"type":"vxlan"},"encryption":{"type":"wireguard"}}',
      'encryption',
      { type: 'wireguard' },
    ],
    [
      '{"network":"10.0.0.0/8","backend":{"type":"wireguard"},"encryption":{"type":"wireguard"}}',
      'encryption',
      { type: 'wireguard' },
    ],
  ];
  for (const [text, field, value] of bad) {
    it(`rejects ${text} naming ${field}`, () => {
      assert.throws(
        () => parseNetConf(text),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError, `not a ConfigError: ${String(err)}`);
          assert.equal(err.field, field);
          if (field !== 'net-conf') assert.deepEqual(err.value, value);
          assert.match(err.message, new RegExp(field.replace(/[[\].]/g, '\\$&')));
          return true;
        },
      );
    });
  }
});
