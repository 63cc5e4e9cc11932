import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAgentOptions } from './config/agent-options.js';
import {
  computePreflightProblems,
  isHostMount,
  missingCapabilities,
  type PreflightFacts,
  parseMountInfo,
  readIpv6State,
} from './preflight.js';

// A podman container: overlay root, runtime tmpfs on /run, host binds for the volumes.
const MOUNTINFO = [
  '600 500 0:52 / / rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w',
  '601 600 0:53 / /proc rw,nosuid - proc proc rw',
  '602 600 0:54 / /run rw,nosuid - tmpfs tmpfs rw',
  '603 600 254:1 /tmp/e2e/nodes/n1/opt/cni/bin /host/opt/cni/bin rw - ext4 /dev/vda rw',
  '604 600 254:1 /tmp/e2e/nodes/n1/etc/cni/net.d /host/etc/cni/net.d rw - ext4 /dev/vda rw',
  '605 602 254:1 /tmp/e2e/nodes/n1/run /run/weft rw - ext4 /dev/vda rw',
  '606 600 254:1 /tmp/e2e/nodes/n1/var/lib /var/lib/weft rw - ext4 /dev/vda rw',
  '607 602 0:25 /netns /run/netns rw master:1 - tmpfs tmpfs rw',
  '609 600 254:1 /tmp/with\\040space /opt/x rw - ext4 /dev/vda rw',
].join('\n');

const FULL_CAPS = '000001ffffffffff';
const opts = parseAgentOptions([], {
  NODE_NAME: 'n1',
  WEFT_CNI_BIN_DIR: '/host/opt/cni/bin',
  WEFT_CNI_CONF_DIR: '/host/etc/cni/net.d',
});

function facts(over: Partial<PreflightFacts> = {}): PreflightFacts {
  return {
    capEff: FULL_CAPS,
    procSysNetWritable: true,
    mounts: parseMountInfo(MOUNTINFO),
    inCluster: true,
    realPaths: { '/var/run/netns': '/run/netns' }, // /var/run is a symlink to /run
    ...over,
  };
}

describe('agent preflight', () => {
  it('parses mountinfo, octal escapes included', () => {
    const mounts = parseMountInfo(MOUNTINFO);
    assert.equal(mounts.length, 9);
    assert.deepEqual(mounts[8], { root: '/tmp/with space', mountPoint: '/opt/x', fsType: 'ext4' });
  });

  it('tells host binds from the container root and the runtime tmpfs', () => {
    const mounts = parseMountInfo(MOUNTINFO);
    assert.equal(isHostMount('/host/opt/cni/bin', mounts), true);
    assert.equal(isHostMount('/run/weft/cni.sock', mounts), true);
    assert.equal(isHostMount('/run/netns', mounts), true, 'a bind of the host tmpfs has root /netns');
    assert.equal(isHostMount('/var/run/netns', mounts), false, 'unresolved symlink path');
    assert.equal(isHostMount('/etc/weft', mounts), false, 'container root filesystem');
    assert.equal(isHostMount('/run/other', mounts), false, 'runtime tmpfs');
  });

  it('names missing capabilities', () => {
    assert.deepEqual(missingCapabilities(FULL_CAPS), []);
    // a default podman/containerd set: no NET_ADMIN, no SYS_ADMIN
    assert.deepEqual(missingCapabilities('00000000a80425fb'), ['CAP_NET_ADMIN', 'CAP_SYS_ADMIN']);
    assert.deepEqual(missingCapabilities('0000000000001000'), ['CAP_SYS_ADMIN']);
  });

  it('passes a privileged pod with every declared mount', () => {
    assert.deepEqual(computePreflightProblems(opts, facts()), []);
  });

  it('fails on a missing volumeMount, naming the setting and the path', () => {
    const text = MOUNTINFO.split('\n')
      .filter((l) => !l.includes(' /host/opt/cni/bin '))
      .join('\n');
    const problems = computePreflightProblems(opts, facts({ mounts: parseMountInfo(text) }));
    assert.equal(problems.length, 1);
    assert.equal(problems[0]?.field, 'WEFT_CNI_BIN_DIR');
    assert.match(problems[0]?.message ?? '', /"\/host\/opt\/cni\/bin".*not mounted from the host/);
  });

  it('fails without privileges: capabilities and read-only /proc/sys/net', () => {
    const problems = computePreflightProblems(
      opts,
      facts({ capEff: '00000000a80425fb', procSysNetWritable: false }),
    );
    assert.deepEqual(
      problems.map((p) => p.field),
      ['securityContext', 'securityContext.privileged'],
    );
    assert.match(problems[0]?.message ?? '', /missing CAP_NET_ADMIN, CAP_SYS_ADMIN/);
  });

  it('checks the netns mount through the resolved symlink', () => {
    const problems = computePreflightProblems(opts, facts({ realPaths: {} }));
    assert.deepEqual(
      problems.map((p) => p.field),
      ['volumeMount netns'],
    );
  });

  it('skips the mount checks outside a pod (a kubeconfig given)', () => {
    const problems = computePreflightProblems(opts, facts({ mounts: [], inCluster: false }));
    assert.deepEqual(problems, []);
  });

  it('with an IPv6 cluster CIDR, fails when the node has no IPv6 or has it disabled, naming the sysctl', () => {
    const table: Array<[PreflightFacts['ipv6'], RegExp | undefined]> = [
      [undefined, undefined], // IPv4-only net-conf: not read, not checked
      ['ok', undefined],
      ['absent', /no IPv6 \(kernel without IPv6 or booted with ipv6\.disable=1\)/],
      ['disabled', /IPv6 is disabled on this node: set the sysctl net\.ipv6\.conf\.all\.disable_ipv6=0/],
    ];
    for (const [ipv6, reason] of table) {
      const problems = computePreflightProblems(opts, facts(ipv6 === undefined ? {} : { ipv6 }));
      if (reason === undefined) {
        assert.deepEqual(problems, [], String(ipv6));
        continue;
      }
      assert.deepEqual(
        problems.map((p) => p.field),
        ['net.ipv6.conf.all.disable_ipv6'],
      );
      assert.match(problems[0]?.message ?? '', reason);
    }
  });

  it('reads IPv6 as absent, disabled or ok from /proc/sys/net', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-preflight-'));
    try {
      assert.equal(await readIpv6State(dir), 'absent');
      mkdirSync(join(dir, 'ipv6/conf/all'), { recursive: true });
      assert.equal(await readIpv6State(dir), 'disabled', 'unreadable sysctl: not known to be on');
      writeFileSync(join(dir, 'ipv6/conf/all/disable_ipv6'), '1\n');
      assert.equal(await readIpv6State(dir), 'disabled');
      writeFileSync(join(dir, 'ipv6/conf/all/disable_ipv6'), '0\n');
      assert.equal(await readIpv6State(dir), 'ok');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
