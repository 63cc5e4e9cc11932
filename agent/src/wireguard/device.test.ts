import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CommandRunner, Netlink } from '../datapath/netlink.js';
import { desiredWireguard } from './desired.js';
import { detectWireguard } from './detect.js';
import { WireguardDevice } from './device.js';
import { WireguardKeyPair } from './keys.js';
import { planWireguard } from './plan.js';
import { WgTool } from './wg-tool.js';

const PEER = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';

interface Call {
  readonly argv: string[];
  readonly input: string | undefined;
}

/** A runner that records every call and answers like a machine without the device. */
function recorder(answer: (argv: string[]) => { exitCode: number; stdout?: string; stderr?: string }) {
  const calls: Call[] = [];
  const run: CommandRunner = async (cmd, args, input) => {
    const argv = [cmd, ...args];
    calls.push({ argv, input });
    const a = answer(argv);
    return { exitCode: a.exitCode, stdout: a.stdout ?? '', stderr: a.stderr ?? '' };
  };
  return { calls, run };
}

describe('WgTool', () => {
  it('runs wg and wireguard-go in the namespace, with a private /run when asked', () => {
    assert.deepEqual(new WgTool().command('wg', ['show']), ['wg', ['show']]);
    assert.deepEqual(new WgTool({ netns: 'n1' }).command('wg', ['show']), [
      'nsenter',
      ['--net=/run/netns/n1', 'wg', 'show'],
    ]);
    const [cmd, args] = new WgTool({ netns: 'n1', runDir: '/tmp/r1' }).command('wireguard-go', [
      '-f',
      'weft.wg',
    ]);
    assert.equal(cmd, 'nsenter');
    assert.deepEqual(args.slice(0, 2), ['--net=/run/netns/n1', 'unshare']);
    assert.deepEqual(args.slice(-4), ['/tmp/r1', 'wireguard-go', '-f', 'weft.wg']);
  });
});

describe('WireguardDevice.apply (kernel, recorded commands)', () => {
  it('creates the link, sets MTU/up in one ip batch, and passes the private key on stdin only', async () => {
    const { calls, run } = recorder(() => ({ exitCode: 0 }));
    const key = WireguardKeyPair.generate();
    const netlink = new Netlink({ netns: 'n1', run });
    const dev = new WireguardDevice({
      device: 'weft.wg',
      implementation: { kind: 'kernel' },
      netns: 'n1',
      netlink,
      run,
    });
    const { desired } = desiredWireguard({
      device: 'weft.wg',
      listenPort: 51820,
      underlayMtu: 1500,
      underlayFamily: 4,
      addresses: [],
      publicKey: key.publicKey,
      peers: [{ name: 'n2', underlayIP: '192.168.71.2', allowedIPs: ['10.244.2.0/24'], publicKey: PEER }],
    });
    await dev.apply(planWireguard(desired, { link: undefined, config: undefined }), key);
    const secret = key.privateKeyText();
    for (const c of calls)
      assert.ok(!c.argv.join(' ').includes(secret), `secret on a command line: ${c.argv}`);
    const wg = calls.filter((c) => c.argv.includes('wg'));
    assert.equal(wg.length, 1);
    assert.equal(wg[0]?.input, `${secret}\n`);
    assert.ok(wg[0]?.argv.includes('/dev/stdin'));
    const batches = calls.filter((c) => c.argv.includes('-batch')).map((c) => c.input);
    assert.deepEqual(batches, [
      'link add dev weft.wg type wireguard\n',
      'link set dev weft.wg mtu 1440\nlink set dev weft.wg up\n',
    ]);
  });
});

describe('detectWireguard (recorded commands)', () => {
  const ok = { exitCode: 0, stdout: 'wireguard-go v0.0.20250522\n\nUserspace WireGuard daemon' };
  it('kernel when the scratch-namespace probe succeeds', async () => {
    const { run, calls } = recorder(() => ({ exitCode: 0 }));
    assert.deepEqual(await detectWireguard({ run }), { kind: 'kernel' });
    assert.deepEqual(calls[1]?.argv, [
      'unshare',
      '--net',
      'ip',
      'link',
      'add',
      'weft.wgprobe',
      'type',
      'wireguard',
    ]);
  });
  it('userspace when the module is missing and wireguard-go runs', async () => {
    const { run } = recorder((a) =>
      a[0] === 'unshare' ? { exitCode: 2, stderr: 'Error: Unknown device type.' } : ok,
    );
    const got = await detectWireguard({ run, wireguardGo: '/opt/wg/wireguard-go', tunDevice: '/dev/null' });
    assert.deepEqual(got, { kind: 'userspace', binary: '/opt/wg/wireguard-go', version: 'v0.0.20250522' });
  });
  it('none, with the reasons, when neither is there or wg is missing', async () => {
    const noModule = recorder((a) =>
      a[0] === 'unshare' ? { exitCode: 2, stderr: 'Error: Unknown device type.' } : ok,
    );
    const none = await detectWireguard({ run: noModule.run });
    assert.equal(none.kind, 'none');
    assert.match(none.kind === 'none' ? none.reason : '', /Unknown device type.*no wireguard-go/);
    const noTun = await detectWireguard({
      run: noModule.run,
      wireguardGo: '/x',
      tunDevice: '/nonexistent/tun',
    });
    assert.match(noTun.kind === 'none' ? noTun.reason : '', /\/nonexistent\/tun/);
    const noWg = recorder(() => ({ exitCode: 127, stderr: 'wg: not found' }));
    assert.match(JSON.stringify(await detectWireguard({ run: noWg.run })), /wireguard-tools/);
  });
});
