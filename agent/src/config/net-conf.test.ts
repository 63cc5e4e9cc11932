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
      mtu: 1400,
      masquerade: false,
      nonMasqueradeCIDRs: ['192.168.0.0/16'],
      resyncSeconds: 0.5,
      networkPolicy: false,
    });
    assert.equal(parseNetConf('{"network":"10.0.0.0/8","backend":{"type":"hostgw"}}').backend, 'hostgw');
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
