import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseControllerNetConf } from '../../../controller/src/net-conf.js';
import { ConfigError } from './config-error.js';
import { clusterFamilies, isDualStack, parseNetConf, servesIpv6, underlayFamily } from './net-conf.js';

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

interface BadRow {
  readonly text: string;
  readonly field: string;
  readonly reason: RegExp;
}

/** One test per row: parseNetConf refuses the text with a ConfigError naming the field. */
function itRejects(rows: readonly BadRow[]): void {
  for (const row of rows) {
    it(`rejects ${row.text} naming ${row.field}`, () => {
      assert.throws(
        () => parseNetConf(row.text),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError, `not a ConfigError: ${String(err)}`);
          assert.equal(err.field, row.field);
          assert.match(err.message, row.reason);
          return true;
        },
      );
    });
  }
}

describe('parseNetConf, dual-stack (ADR 18)', () => {
  const good: Array<{ text: string; clusterCIDRs: string[]; nonMasq?: string[] }> = [
    {
      text: '{"clusterCIDRs":["10.244.0.0/16","fd00:10::/48"]}',
      clusterCIDRs: ['10.244.0.0/16', 'fd00:10::/48'],
    },
    // IPv4 first whatever the order written; IPv6 in RFC 5952 text
    {
      text: '{"clusterCIDRs":["FD00:10:0::/48","10.244.0.0/16"]}',
      clusterCIDRs: ['10.244.0.0/16', 'fd00:10::/48'],
    },
    {
      text: '{"clusterCIDRs":["fd00:0:0:0:0:0:0:0/64","10.244.0.0/16"],"nodeCIDRMaskSizeIPv6":80}',
      clusterCIDRs: ['10.244.0.0/16', 'fd00::/64'],
    },
    // an IPv4-only net-conf may set the IPv6 size (unused), as the controller allows
    { text: '{"network":"10.244.0.0/16","nodeCIDRMaskSizeIPv6":64}', clusterCIDRs: ['10.244.0.0/16'] },
    {
      text: '{"network":"10.0.0.0/8","nonMasqueradeCIDRs":["2001:DB8::/32","192.168.0.0/16"]}',
      clusterCIDRs: ['10.0.0.0/8'],
      nonMasq: ['2001:db8::/32', '192.168.0.0/16'],
    },
    {
      text: '{"clusterCIDRs":["10.244.0.0/16","fd00::/48"],"nodeCIDRMaskSize":26,"nodeCIDRMaskSizeIPv6":64}',
      clusterCIDRs: ['10.244.0.0/16', 'fd00::/48'],
    },
  ];
  for (const row of good) {
    it(`accepts ${row.text}`, () => {
      const conf = parseNetConf(row.text);
      assert.deepEqual(conf.clusterCIDRs, row.clusterCIDRs);
      assert.deepEqual(conf.nonMasqueradeCIDRs, row.nonMasq ?? []);
      assert.equal(isDualStack(conf), row.clusterCIDRs.length === 2);
      assert.equal(underlayFamily(conf), 4);
    });
  }

  const bad: BadRow[] = [
    {
      text: '{"clusterCIDRs":["fd00::/48","fd01::/48"]}',
      field: 'clusterCIDRs[1]',
      reason: /second IPv6 cluster CIDR \(clusterCIDRs\[0\] is one\): at most one per family/,
    },
    {
      text: '{"clusterCIDRs":["10.244.0.0/16","fd00::/48","fd01::/48"]}',
      field: 'clusterCIDRs[2]',
      reason: /second IPv6/,
    },
    {
      text: '{"clusterCIDRs":["10.244.0.0/16","fd00::/48","10.250.0.0/16"]}',
      field: 'clusterCIDRs[2]',
      reason: /second IPv4 cluster CIDR/,
    },
    {
      text: '{"clusterCIDRs":["10.244.0.0/16","fd00::1/48"]}',
      field: 'clusterCIDRs[1]',
      reason: /host bits/,
    },
    {
      text: '{"clusterCIDRs":["10.244.0.0/16","fd00::/129"]}',
      field: 'clusterCIDRs[1]',
      reason: /out of range/,
    },
    {
      text: '{"clusterCIDRs":["10.244.0.0/16","::ffff:10.0.0.0/104"]}',
      field: 'clusterCIDRs[1]',
      reason: /IPv4-mapped/,
    },
    { text: '{"clusterCIDRs":["10.244.0.0/16","fe80::%eth0/64"]}', field: 'clusterCIDRs[1]', reason: /zone/ },
    {
      text: '{"clusterCIDRs":["10.244.0.0/16","fd00::/48"],"nodeCIDRMaskSizeIPv6":127}',
      field: 'nodeCIDRMaskSizeIPv6',
      reason: /integer from 8 to 126/,
    },
    {
      text: '{"clusterCIDRs":["10.244.0.0/16","fd00::/48"],"nodeCIDRMaskSizeIPv6":"64"}',
      field: 'nodeCIDRMaskSizeIPv6',
      reason: /integer/,
    },
    {
      // the default /64 in an IPv6 cluster CIDR of /80 (IPv6 listed first: IPv4 first only afterwards)
      text: '{"clusterCIDRs":["fd00::/80","10.244.0.0/16"]}',
      field: 'nodeCIDRMaskSizeIPv6',
      reason: /at least the prefix length of clusterCIDRs\[0\] fd00::\/80/,
    },
    {
      text: '{"clusterCIDRs":["10.244.0.0/16","fd00::/40"],"nodeCIDRMaskSizeIPv6":57}',
      field: 'nodeCIDRMaskSizeIPv6',
      reason: /more than 65536/,
    },
    {
      text: '{"clusterCIDRs":["10.244.0.0/16"],"nodeCIDRMaskSize":12}',
      field: 'nodeCIDRMaskSize',
      reason: /at least the prefix length of clusterCIDRs\[0\]/,
    },
    {
      text: '{"clusterCIDRs":["10.0.0.0/8"],"nodeCIDRMaskSize":25}',
      field: 'nodeCIDRMaskSize',
      reason: /more than 65536/,
    },
    { text: '{"network":"10.0.0.0/8","nodeCIDRMaskSize":31}', field: 'nodeCIDRMaskSize', reason: /8 to 30/ },
    {
      text: '{"network":"10.0.0.0/8","nonMasqueradeCIDRs":["fd00::1/64"]}',
      field: 'nonMasqueradeCIDRs[0]',
      reason: /host bits/,
    },
    {
      text: '{"network":"10.0.0.0/8","nonMasqueradeCIDRs":"fd00::/64"}',
      field: 'nonMasqueradeCIDRs',
      reason: /list of CIDRs/,
    },
  ];
  itRejects(bad);

  it('agrees with weft-controller on every cluster CIDR and mask size it refuses', () => {
    // The controller accepts IPv6-only (it can assign IPv6 podCIDRs); everything else matches.
    for (const row of bad.filter((r) => !/IPv6-only|nonMasquerade/.test(`${r.reason} ${r.field}`))) {
      assert.throws(
        () => parseControllerNetConf(row.text),
        (err: unknown) => err instanceof ConfigError && err.field === row.field,
        row.text,
      );
    }
    for (const row of good) assert.doesNotThrow(() => parseControllerNetConf(row.text), row.text);
  });
});

describe('parseNetConf, IPv6-only (ADR 19)', () => {
  const good: Array<{ text: string; clusterCIDRs: string[]; mtu?: number; nonMasq?: string[] }> = [
    { text: '{"clusterCIDRs":["fd00:10::/48"]}', clusterCIDRs: ['fd00:10::/48'] },
    { text: '{"network":"FD00:10:0::/48"}', clusterCIDRs: ['fd00:10::/48'] },
    {
      text: '{"clusterCIDRs":["2001:db8:42::/56"],"nodeCIDRMaskSizeIPv6":64,"mtu":1280,"nonMasqueradeCIDRs":["2001:DB8::/32"]}',
      clusterCIDRs: ['2001:db8:42::/56'],
      mtu: 1280,
      nonMasq: ['2001:db8::/32'],
    },
    // the IPv4 size may still be set (unused), as the controller allows
    { text: '{"clusterCIDRs":["fd00::/48"],"nodeCIDRMaskSize":24}', clusterCIDRs: ['fd00::/48'] },
    { text: '{"clusterCIDRs":["fd00::/48"],"backend":{"type":"vxlan"}}', clusterCIDRs: ['fd00::/48'] },
  ];
  for (const row of good) {
    it(`accepts ${row.text}`, () => {
      const conf = parseNetConf(row.text);
      assert.deepEqual(conf.clusterCIDRs, row.clusterCIDRs);
      assert.deepEqual(clusterFamilies(conf), [6]);
      assert.equal(underlayFamily(conf), 6);
      assert.equal(servesIpv6(conf), true);
      assert.equal(isDualStack(conf), false);
      assert.equal(conf.mtu, row.mtu);
      assert.deepEqual(conf.nonMasqueradeCIDRs, row.nonMasq ?? []);
    });
  }

  it('knows the families of IPv4-only and dual-stack net-confs', () => {
    const table: Array<[string, number[], 4 | 6, boolean]> = [
      ['{"network":"10.244.0.0/16"}', [4], 4, false],
      ['{"clusterCIDRs":["10.244.0.0/16","10.250.0.0/16"]}', [4], 4, false],
      ['{"clusterCIDRs":["fd00::/48","10.244.0.0/16"]}', [4, 6], 4, true],
    ];
    for (const [text, families, underlay, ipv6] of table) {
      const conf = parseNetConf(text);
      assert.deepEqual(clusterFamilies(conf), families, text);
      assert.equal(underlayFamily(conf), underlay, text);
      assert.equal(servesIpv6(conf), ipv6, text);
    }
  });

  // [net-conf, the field named, the reason]
  const bad: BadRow[] = (
    [
      [
        '{"clusterCIDRs":["fd00::/48","fd01::/48"]}',
        'clusterCIDRs[1]',
        /second IPv6 cluster CIDR \(clusterCIDRs\[0\] is one\): at most one per family/,
      ],
      ['{"network":"fd00::1/48"}', 'network', /host bits/],
      ['{"clusterCIDRs":["fd00::/48","fd00:0:0:1::/64"]}', 'clusterCIDRs[1]', /second IPv6/],
      ['{"clusterCIDRs":["::ffff:10.0.0.0/104"]}', 'clusterCIDRs[0]', /IPv4-mapped/],
      [
        '{"clusterCIDRs":["fd00::/80"]}',
        'nodeCIDRMaskSizeIPv6',
        /at least the prefix length of clusterCIDRs\[0\] fd00::\/80/,
      ],
      ['{"clusterCIDRs":["fd00::/32"],"nodeCIDRMaskSizeIPv6":64}', 'nodeCIDRMaskSizeIPv6', /more than 65536/],
      [
        '{"clusterCIDRs":["fd00::/48"],"nodeCIDRMaskSizeIPv6":127}',
        'nodeCIDRMaskSizeIPv6',
        /integer from 8 to 126/,
      ],
      [
        '{"clusterCIDRs":["fd00::/48"],"nonMasqueradeCIDRs":["fd01::/48","192.168.0.0/16"]}',
        'nonMasqueradeCIDRs[1]',
        /an IPv4 CIDR in an IPv6-only cluster/,
      ],
      ['{"clusterCIDRs":["fd00::/48"],"mtu":1200}', 'mtu', /must be at least 1280 with an IPv6 cluster CIDR/],
      // dual-stack too: the pods' IPv6 would be disabled
      ['{"clusterCIDRs":["10.244.0.0/16","fd00::/48"],"mtu":1279}', 'mtu', /must be at least 1280/],
      ['{"clusterCIDRs":["fd00::/48"],"mtu":9217}', 'mtu', /\[576, 9216\]/],
    ] as const
  ).map(([text, field, reason]) => ({ text, field, reason }));
  itRejects(bad);

  it('accepts what weft-controller accepts for IPv6-only cluster CIDRs, and refuses what it refuses', () => {
    for (const row of good) assert.doesNotThrow(() => parseControllerNetConf(row.text), row.text);
    for (const row of bad.filter((r) => r.field.startsWith('clusterCIDRs') || r.field.startsWith('node'))) {
      assert.throws(
        () => parseControllerNetConf(row.text),
        (err: unknown) => err instanceof ConfigError && err.field === row.field,
        row.text,
      );
    }
  });
});
