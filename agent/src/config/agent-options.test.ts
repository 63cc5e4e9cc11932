import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAgentOptions } from './agent-options.js';
import { ConfigError } from './config-error.js';

describe('parseAgentOptions', () => {
  it('applies the defaults', () => {
    assert.deepEqual(parseAgentOptions([], { NODE_NAME: 'node-a' }), {
      nodeName: 'node-a',
      namespace: 'weft-system',
      kubeconfig: undefined,
      netConfPath: '/etc/weft/net-conf.json',
      cniBinDir: '/opt/cni/bin',
      cniConfDir: '/etc/cni/net.d',
      cniShim: undefined,
      runDir: '/run/weft',
      stateDir: '/var/lib/weft',
      httpHost: '0.0.0.0',
      httpPort: 9742,
      gossipPort: 9743,
      gossipKeyFile: '/etc/weft/gossip/key',
      gossipInsecure: false,
      gossipSuspectMs: 20_000,
      gossipDeadMs: 40_000,
      bridgeName: 'weft0',
      vxlanName: 'weft.vxlan',
      wireguardName: 'weft.wg',
      wireguardGo: '/usr/local/bin/wireguard-go',
      wireguardRunDir: undefined,
      netns: undefined,
      uninstall: false,
    });
  });

  it('reads env and lets flags win', () => {
    const opts = parseAgentOptions(['--http-addr=127.0.0.1:19742', '--state-dir', '/tmp/s', '--uninstall'], {
      NODE_NAME: 'n1',
      KUBECONFIG: '/k',
      WEFT_STATE_DIR: '/var/x',
      WEFT_BRIDGE: 'wtbr0',
      WEFT_NETNS: 'wtag-n1',
      WEFT_GOSSIP_PORT: '19743',
    });
    assert.equal(opts.httpHost, '127.0.0.1');
    assert.equal(opts.httpPort, 19742);
    assert.equal(opts.stateDir, '/tmp/s');
    assert.equal(opts.kubeconfig, '/k');
    assert.equal(opts.bridgeName, 'wtbr0');
    assert.equal(opts.netns, 'wtag-n1');
    assert.equal(opts.gossipPort, 19743);
    assert.equal(opts.uninstall, true);
    assert.equal(parseAgentOptions(['--namespace', 'net'], { NODE_NAME: 'n1' }).namespace, 'net');
  });

  it('takes the CNI shim to install from WEFT_CNI_SHIM or --cni-shim', () => {
    const env = { NODE_NAME: 'n1', WEFT_CNI_SHIM: '/app/cni/weft' };
    assert.equal(parseAgentOptions([], env).cniShim, '/app/cni/weft');
    assert.equal(parseAgentOptions(['--cni-shim', '/opt/shim'], env).cniShim, '/opt/shim');
  });

  it('reads the gossip key file, insecure mode and failure-detection timeouts', () => {
    const opts = parseAgentOptions(['--gossip-dead-seconds=2.5'], {
      NODE_NAME: 'n',
      WEFT_GOSSIP_KEY_FILE: '/k/key',
      WEFT_GOSSIP_INSECURE: 'true',
      WEFT_GOSSIP_SUSPECT_SECONDS: '1.2',
      WEFT_GOSSIP_DEAD_SECONDS: '9',
    });
    assert.equal(opts.gossipKeyFile, '/k/key');
    assert.equal(opts.gossipInsecure, true);
    assert.equal(opts.gossipSuspectMs, 1200);
    assert.equal(opts.gossipDeadMs, 2500);
  });

  it('takes an IPv6 WEFT_HTTP_ADDR in brackets (the chart sets [::]:port in an IPv6-only cluster)', () => {
    const table: Array<[string, string, number]> = [
      ['[::]:9742', '::', 9742],
      ['[fd00::1]:19742', 'fd00::1', 19742],
      ['0.0.0.0:9742', '0.0.0.0', 9742],
    ];
    for (const [addr, host, port] of table) {
      const opts = parseAgentOptions([], { NODE_NAME: 'n', WEFT_HTTP_ADDR: addr });
      assert.deepEqual([opts.httpHost, opts.httpPort], [host, port], addr);
    }
  });

  it('does not need NODE_NAME for --uninstall', () => {
    assert.equal(parseAgentOptions(['--uninstall'], {}).uninstall, true);
  });

  const bad: Array<[string[], NodeJS.ProcessEnv, string]> = [
    [[], {}, 'NODE_NAME'],
    [[], { NODE_NAME: 'Bad_Name' }, 'NODE_NAME'],
    [[], { NODE_NAME: 'n', WEFT_HTTP_ADDR: '9742' }, 'WEFT_HTTP_ADDR'],
    [[], { NODE_NAME: 'n', WEFT_HTTP_ADDR: '0.0.0.0:0' }, 'WEFT_HTTP_ADDR'],
    [[], { NODE_NAME: 'n', WEFT_HTTP_ADDR: '::1:9742' }, 'WEFT_HTTP_ADDR'],
    [[], { NODE_NAME: 'n', WEFT_HTTP_ADDR: '[10.0.0.1]:9742' }, 'WEFT_HTTP_ADDR'],
    [[], { NODE_NAME: 'n', WEFT_HTTP_ADDR: '[fd00::/64]:9742' }, 'WEFT_HTTP_ADDR'],
    [[], { NODE_NAME: 'n', WEFT_HTTP_ADDR: '[::]' }, 'WEFT_HTTP_ADDR'],
    [[], { NODE_NAME: 'n', WEFT_GOSSIP_PORT: 'x' }, 'WEFT_GOSSIP_PORT'],
    [[], { NODE_NAME: 'n', WEFT_STATE_DIR: 'relative' }, 'WEFT_STATE_DIR'],
    [[], { NODE_NAME: 'n', WEFT_BRIDGE: 'much-too-long-bridge' }, 'WEFT_BRIDGE'],
    [[], { NODE_NAME: 'n', WEFT_NETNS: 'a/b' }, 'WEFT_NETNS'],
    [[], { NODE_NAME: 'n', POD_NAMESPACE: 'Weft_System' }, 'POD_NAMESPACE'],
    [[], { NODE_NAME: 'n', WEFT_CNI_SHIM: 'build/weft-cni-shim' }, 'WEFT_CNI_SHIM'],
    [[], { NODE_NAME: 'n', WEFT_GOSSIP_KEY_FILE: 'key' }, 'WEFT_GOSSIP_KEY_FILE'],
    [[], { NODE_NAME: 'n', WEFT_GOSSIP_INSECURE: 'yes' }, 'WEFT_GOSSIP_INSECURE'],
    [[], { NODE_NAME: 'n', WEFT_GOSSIP_SUSPECT_SECONDS: '0.1' }, 'WEFT_GOSSIP_SUSPECT_SECONDS'],
    [[], { NODE_NAME: 'n', WEFT_GOSSIP_SUSPECT_SECONDS: '-1' }, 'WEFT_GOSSIP_SUSPECT_SECONDS'],
    [[], { NODE_NAME: 'n', WEFT_GOSSIP_DEAD_SECONDS: 'soon' }, 'WEFT_GOSSIP_DEAD_SECONDS'],
    [
      [],
      { NODE_NAME: 'n', WEFT_GOSSIP_SUSPECT_SECONDS: '5', WEFT_GOSSIP_DEAD_SECONDS: '5' },
      'WEFT_GOSSIP_DEAD_SECONDS',
    ],
    [['--bogus'], { NODE_NAME: 'n' }, 'argv'],
    [['--state-dir'], { NODE_NAME: 'n' }, '--state-dir'],
  ];
  for (const [argv, env, field] of bad) {
    it(`rejects ${JSON.stringify({ argv, env })} naming ${field}`, () => {
      assert.throws(
        () => parseAgentOptions(argv, env),
        (err: unknown) => err instanceof ConfigError && err.field === field,
      );
    });
  }
});

describe('agentUsage', () => {
  it('lists every flag with its environment variable', async () => {
    const { agentUsage } = await import('./agent-options.js');
    const text = agentUsage();
    for (const want of [
      '--node-name',
      'NODE_NAME',
      '--cni-shim',
      'WEFT_CNI_SHIM',
      '--uninstall',
      '--gossip-key-file',
    ]) {
      assert.ok(text.includes(want), want);
    }
  });
});
