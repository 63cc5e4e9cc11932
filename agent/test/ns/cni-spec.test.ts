import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { installCniFiles } from '../../src/cni/install.js';
import { hostVethName } from '../../src/cni/names.js';
import { CniTestNode, execFileP, ip } from './cni-fixture.js';
import { CniPluginError, CniRuntime, execPlugin, parsePluginAnswer } from './cni-runtime.js';

/**
 * A stand-in for a portmap that speaks CNI 1.1.0 (containernetworking/plugins
 * v1.x; the machine's reference portmap stops at 1.0.0): answers VERSION, passes
 * prevResult through on ADD, succeeds otherwise, and logs "COMMAND cniVersion".
 */
async function writePortmap110(dir: string, log: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const script = `#!/usr/bin/env node
const fs = require('node:fs');
const input = fs.readFileSync(0, 'utf8');
const conf = input ? JSON.parse(input) : {};
const cmd = process.env.CNI_COMMAND;
fs.appendFileSync(${JSON.stringify(log)}, cmd + ' ' + conf.cniVersion + '\\n');
if (cmd === 'VERSION')
  process.stdout.write(JSON.stringify({ cniVersion: conf.cniVersion, supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] }));
else if (cmd === 'ADD') process.stdout.write(JSON.stringify(conf.prevResult));
`;
  await writeFile(join(dir, 'portmap'), script);
  await chmod(join(dir, 'portmap'), 0o755);
}

type AddResult = {
  cniVersion: string;
  interfaces: Array<{ name: string; sandbox?: string; mac?: string; mtu?: number }>;
  ips: Array<{ address: string; gateway?: string; interface?: number; version?: string }>;
  routes: Array<{ dst: string; gw?: string }>;
};

async function expectCniError(p: Promise<unknown>, code: number): Promise<CniPluginError> {
  const err = await p.then(
    () => assert.fail(`expected CNI error ${code}, got success`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof CniPluginError, String(err));
  assert.equal(err.code, code, err.message);
  return err;
}

describe('CNI through the real shim and conflist (node netns)', { timeout: 120_000 }, () => {
  let node: CniTestNode;
  before(async () => {
    node = await CniTestNode.create('spec');
  });
  after(async () => {
    await node?.cleanup();
  });

  /** Runs the installed shim directly with a raw env and stdin, inside the node netns. */
  function shim(env: Record<string, string>, stdin: string) {
    return execPlugin(`${node.binDir}/weft`, env, stdin, node.nsPath);
  }
  const weftConf = () => node.runtime.conflist.plugins[0] as Record<string, unknown>;

  it('ADD → CHECK → DEL → DEL, with portmap chained', async () => {
    const netns = await node.createPod('a');
    const a = {
      containerId: 'ctr-a',
      netns,
      capabilityArgs: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] },
    };
    const result = (await node.runtime.add(a)) as AddResult;
    assert.equal(result.cniVersion, node.runtime.cniVersion);
    const podIf = result.interfaces.find((i) => i.sandbox === netns);
    assert.equal(podIf?.name, 'eth0');
    const hostIf = result.interfaces.find((i) => i.sandbox === undefined);
    assert.equal(hostIf?.name, hostVethName({ containerId: 'ctr-a', ifname: 'eth0' }));
    assert.match(result.ips[0]?.address ?? '', /^10\.244\.1\.\d+\/24$/);
    assert.equal(result.ips[0]?.gateway, '10.244.1.1');
    assert.deepEqual(result.routes, [{ dst: '0.0.0.0/0', gw: '10.244.1.1' }]);

    const link = JSON.parse(
      await ip(['-n', node.podName('a'), '-j', '-d', 'link', 'show', 'eth0']),
    ) as Array<{ mtu: number; operstate: string }>;
    assert.equal(link[0]?.mtu, 1450);
    const hostLink = JSON.parse(
      await ip(['-n', node.netns, '-j', '-d', 'link', 'show', hostIf?.name ?? '']),
    ) as Array<{
      master: string;
      linkinfo: { info_slave_data: { hairpin: boolean } };
    }>;
    assert.equal(hostLink[0]?.master, 'weft0');
    assert.equal(hostLink[0]?.linkinfo.info_slave_data.hairpin, true);
    const nat = await execFileP('ip', ['netns', 'exec', node.netns, 'iptables-save', '-t', 'nat']);
    assert.match(
      nat.stdout,
      new RegExp(`--dport 8080 -j DNAT --to-destination ${result.ips[0]?.address.split('/')[0]}:80`),
    );

    // Debian's portmap 1.1.1 fails CHECK with mappings on IPv4-only pods (it looks
    // for an ip6tables chain it never made), so CHECK runs weft's part here.
    await node.runtime.invoke('CHECK', weftConf(), a, result);
    await node.runtime.del(a, result);
    assert.doesNotMatch(
      (await execFileP('ip', ['netns', 'exec', node.netns, 'iptables-save', '-t', 'nat'])).stdout,
      /--dport 8080/,
    );
    assert.ok(!(await node.hostVeths()).includes(hostIf?.name ?? ''), 'host veth removed');
    await node.runtime.del(a, result);
    await node.deletePod('a');
    await node.runtime.del(a, result); // netns gone too
  });

  it('CHECK names what is wrong', async () => {
    const netns = await node.createPod('chk');
    const a = { containerId: 'ctr-chk', netns };
    const result = (await node.runtime.add(a)) as AddResult;
    await ip(['-n', node.podName('chk'), 'route', 'del', 'default']);
    const err = await expectCniError(node.runtime.check(a, result), 104);
    assert.match(err.details, /default route via 10\.244\.1\.1 missing/);
    await node.runtime.del(a, result);
    await node.deletePod('chk');
  });

  it('pods on the node reach each other and the node reaches them', async () => {
    const pods = [];
    for (const i of [1, 2]) {
      const netns = await node.createPod(i);
      const a = { containerId: `ctr-ping-${i}`, netns };
      const r = (await node.runtime.add(a)) as AddResult;
      pods.push({ a, r, ip: (r.ips[0]?.address ?? '').split('/')[0] ?? '' });
    }
    assert.notEqual(pods[0]?.ip, pods[1]?.ip);
    assert.ok(await node.ping(pods[1]?.ip ?? '', 1), 'pod 1 → pod 2');
    assert.ok(await node.ping(pods[0]?.ip ?? '', 2), 'pod 2 → pod 1');
    assert.ok(await node.ping(pods[0]?.ip ?? ''), 'node → pod 1');
    for (const [i, p] of pods.entries()) {
      await node.runtime.del(p.a, p.r);
      await node.deletePod(i + 1);
    }
  });

  it('DEL of an unknown container succeeds; a second ADD of the same attachment fails', async () => {
    await node.runtime.del({ containerId: 'never-added', netns: '' });
    const netns = await node.createPod('dup');
    const a = { containerId: 'ctr-dup', netns };
    const r = await node.runtime.add(a);
    const err = await expectCniError(node.runtime.add(a), 101);
    assert.match(err.details, /already/);
    await node.runtime.check(a, r); // the failed second ADD left the first intact
    await node.runtime.del(a, r);
    await node.deletePod('dup');
  });

  it('ADD → DEL → ADD of one attachment: the new host veth (same name) is wired by the resident ip', async () => {
    // The agent's resident `ip -batch` saw the first device; the second one has the
    // same name and a new index. A stale name → index lookup would fail or wire nothing.
    const netns = await node.createPod('again');
    const a = { containerId: 'ctr-again', netns };
    const name = hostVethName({ containerId: 'ctr-again', ifname: 'eth0' });
    const indexOf = async () =>
      (
        JSON.parse(await ip(['-n', node.netns, '-j', '-d', 'link', 'show', name])) as Array<{
          ifindex: number;
          master?: string;
          linkinfo?: { info_slave_data?: { hairpin?: boolean } };
        }>
      )[0];
    const r1 = await node.runtime.add(a);
    const first = await indexOf();
    await node.runtime.del(a, r1);
    const r2 = (await node.runtime.add(a)) as AddResult;
    const second = await indexOf();
    assert.notEqual(second?.ifindex, first?.ifindex, 'a new device');
    assert.equal(second?.master, 'weft0');
    assert.equal(second?.linkinfo?.info_slave_data?.hairpin, true);
    assert.ok(await node.ping((r2.ips[0]?.address ?? '').split('/')[0] ?? ''), 'node → re-added pod');
    await node.runtime.del(a, r2);
    assert.ok(!(await node.hostVeths()).includes(name), 'second DEL removed the new device');
    await node.deletePod('again');
  });

  it('answers in the version the config asks for', async () => {
    for (const [v, legacy] of [
      ['0.3.1', true],
      ['0.4.0', true],
      ['1.0.0', false],
      ['1.1.0', false],
    ] as const) {
      const netns = await node.createPod(`v${v.replaceAll('.', '')}`);
      const env = {
        CNI_COMMAND: 'ADD',
        CNI_CONTAINERID: `ctr-v${v}`,
        CNI_NETNS: netns,
        CNI_IFNAME: 'eth0',
        CNI_PATH: node.binDir,
      };
      const r = parsePluginAnswer(
        'weft',
        await shim(env, JSON.stringify({ ...weftConf(), name: 'weft', cniVersion: v })),
      ) as AddResult;
      assert.equal(r.cniVersion, v);
      assert.equal(r.ips[0]?.version, legacy ? '4' : undefined, `ips[0].version in ${v}`);
      assert.equal(r.interfaces[1]?.mtu, v === '1.1.0' ? 1450 : undefined, `interface mtu in ${v}`);
      const del = await shim(
        { ...env, CNI_COMMAND: 'DEL' },
        JSON.stringify({ ...weftConf(), name: 'weft', cniVersion: v }),
      );
      assert.equal(del.exitCode, 0, del.stdout);
    }
    const version = await shim({ CNI_COMMAND: 'VERSION' }, JSON.stringify({ cniVersion: '1.0.0' }));
    assert.deepEqual(JSON.parse(version.stdout), {
      cniVersion: '1.0.0',
      supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'],
    });
  });

  it('maps bad input to the spec error codes', async () => {
    const netns = await node.createPod('bad');
    const env = {
      CNI_COMMAND: 'ADD',
      CNI_CONTAINERID: 'ctr-bad',
      CNI_NETNS: netns,
      CNI_IFNAME: 'eth0',
      CNI_PATH: node.binDir,
    };
    const conf = JSON.stringify({ ...weftConf(), name: 'weft', cniVersion: '1.1.0' });
    const socketOnly = JSON.stringify({ socket: node.socketPath });
    const cases: Array<[string, Record<string, string>, string, number, RegExp]> = [
      ['malformed JSON', env, `{"socket":"${node.socketPath}", nope`, 6, /decode/],
      ['missing CNI_COMMAND', { ...env, CNI_COMMAND: '' }, conf, 4, /CNI_COMMAND/],
      ['missing CNI_NETNS', { ...env, CNI_NETNS: '' }, conf, 4, /CNI_NETNS/],
      ['missing CNI_CONTAINERID', { ...env, CNI_CONTAINERID: '' }, conf, 4, /CNI_CONTAINERID/],
      [
        'missing name',
        env,
        JSON.stringify({ ...JSON.parse(socketOnly), cniVersion: '1.0.0', type: 'weft' }),
        7,
        /name/,
      ],
      [
        'bad prevResult',
        env,
        JSON.stringify({ ...JSON.parse(conf), prevResult: { ips: 'x' } }),
        7,
        /prevResult\.ips/,
      ],
      [
        'unsupported version',
        env,
        JSON.stringify({ ...JSON.parse(conf), cniVersion: '9.9.9' }),
        1,
        /9\.9\.9/,
      ],
    ];
    for (const [what, e, stdin, code, detail] of cases) {
      const run = await shim(e, stdin);
      assert.equal(run.exitCode, 1, `${what}: exit code`);
      const body = JSON.parse(run.stdout) as {
        code: number;
        msg: string;
        details: string;
        cniVersion: string;
      };
      assert.equal(body.code, code, `${what}: ${run.stdout}`);
      assert.match(`${body.msg} ${body.details}`, detail, what);
      assert.equal(typeof body.cniVersion, 'string');
    }
    await node.deletePod('bad');
  });

  it('STATUS is 50 until the pod network is ready; GC releases what is not valid', async () => {
    const conf = { ...weftConf(), name: 'weft', cniVersion: '1.1.0' };
    node.ready = false;
    const notReady = parsePluginAnswer.bind(null, 'weft');
    await expectCniError(
      Promise.resolve(shim({ CNI_COMMAND: 'STATUS' }, JSON.stringify(conf))).then(notReady),
      50,
    );
    node.ready = true;
    assert.equal((await shim({ CNI_COMMAND: 'STATUS' }, JSON.stringify(conf))).exitCode, 0);

    const keep = { containerId: 'ctr-keep', netns: await node.createPod('keep') };
    const drop = { containerId: 'ctr-drop', netns: await node.createPod('drop') };
    const rKeep = await node.runtime.add(keep);
    await node.runtime.add(drop);
    const gc = { ...conf, 'cni.dev/valid-attachments': [{ containerID: 'ctr-keep', ifname: 'eth0' }] };
    assert.equal((await shim({ CNI_COMMAND: 'GC' }, JSON.stringify(gc))).exitCode, 0);
    const veths = await node.hostVeths();
    assert.ok(veths.includes(hostVethName({ containerId: 'ctr-keep', ifname: 'eth0' })));
    assert.ok(
      !veths.includes(hostVethName({ containerId: 'ctr-drop', ifname: 'eth0' })),
      'stale veth deleted',
    );
    await node.runtime.check(keep, rKeep);
    const metrics = await node.registry.metrics();
    assert.match(metrics, /weft_ipam_allocated\{network="weft"\} 1\b/);
    assert.match(metrics, /weft_ipam_capacity\{network="weft"\} 253\b/);
    assert.match(metrics, /weft_cni_requests_total\{command="ADD",result="ok"\} \d+/);
    await node.runtime.del(keep, rKeep);
    await node.deletePod('keep');
    await node.deletePod('drop');
  });

  it('a portmap speaking 1.1.0: libcni ≥ 1.2 runs the chain at 1.1.0 with STATUS and GC, libcni 1.1 at 1.0.0', async () => {
    const dir = join(node.dir, 'portmap-1.1.0');
    const log = join(dir, 'calls.log');
    await writePortmap110(join(dir, 'bin'), log);
    const installed = await installCniFiles({
      binDir: node.binDir,
      confDir: join(dir, 'net.d'),
      shimSource: node.shim,
      socketPath: node.socketPath,
      pluginDirs: [join(dir, 'bin')],
    });
    assert.deepEqual([installed.cniVersion, installed.cniVersions?.at(-1)], ['1.0.0', '1.1.0']);
    const conflist = join(dir, 'net.d', '10-weft.conflist');
    const plugins = [node.binDir, join(dir, 'bin')];
    const current = await CniRuntime.load(conflist, plugins, node.nsPath);
    const old = await CniRuntime.load(conflist, plugins, node.nsPath, '1.0.0');
    assert.deepEqual([current.cniVersion, old.cniVersion], ['1.1.0', '1.0.0']);

    const a = { containerId: 'ctr-v110', netns: await node.createPod('pm110') };
    const r = (await current.add(a)) as AddResult;
    assert.equal(r.cniVersion, '1.1.0');
    assert.equal(r.interfaces.find((i) => i.sandbox === a.netns)?.mtu, 1450, 'interface mtu exists in 1.1.0');
    await current.check(a, r);
    assert.equal(await current.status(), true, 'STATUS went through the chain');
    node.ready = false;
    await expectCniError(current.status(), 50);
    node.ready = true;
    assert.equal(await current.gc([a]), true);
    assert.ok((await node.hostVeths()).includes(hostVethName({ ...a, ifname: 'eth0' })), 'valid: kept');
    assert.equal(await current.gc([]), true);
    assert.ok(!(await node.hostVeths()).includes(hostVethName({ ...a, ifname: 'eth0' })), 'stale: gone');
    await current.del(a, r);
    await current.del(a, r);

    const b = { containerId: 'ctr-v100', netns: await node.createPod('pm100') };
    const rOld = (await old.add(b)) as AddResult;
    assert.equal(rOld.cniVersion, '1.0.0', 'an older runtime still gets results it can read');
    assert.equal(await old.status(), false, 'and sends no STATUS');
    await old.check(b, rOld);
    await old.del(b, rOld);
    await old.del(b, rOld);
    await node.deletePod('pm110');
    await node.deletePod('pm100');
    const calls = (await readFile(log, 'utf8')).trim().split('\n');
    assert.ok(calls.includes('STATUS 1.1.0') && calls.includes('GC 1.1.0'), calls.join(', '));
    assert.ok(calls.includes('ADD 1.0.0') && !calls.includes('STATUS 1.0.0'), calls.join(', '));
  });

  it('STATUS and GC with a config older than 1.1.0 get error 1, as the reference skel answers', async () => {
    const conf = JSON.stringify({ ...weftConf(), name: 'weft', cniVersion: '1.0.0' });
    for (const command of ['STATUS', 'GC']) {
      const run = await shim({ CNI_COMMAND: command }, conf);
      assert.equal(run.exitCode, 1, command);
      assert.match(JSON.parse(run.stdout).details, new RegExp(`${command} exists from CNI 1\\.1\\.0 on`));
    }
  });

  it('agent stopped: ADD 11, CHECK 11, STATUS 50, DEL and GC succeed', async () => {
    await node.stopServer();
    try {
      const netns = await node.createPod('down');
      const a = { containerId: 'ctr-down', netns };
      await expectCniError(node.runtime.add(a), 11);
      const conf = JSON.stringify({ ...weftConf(), name: 'weft', cniVersion: '1.1.0' });
      const check = await shim(
        { CNI_COMMAND: 'CHECK', CNI_CONTAINERID: 'ctr-down', CNI_IFNAME: 'eth0', CNI_NETNS: netns },
        JSON.stringify({ ...JSON.parse(conf), prevResult: { ips: [] } }),
      );
      assert.equal(JSON.parse(check.stdout).code, 11);
      const status = await shim({ CNI_COMMAND: 'STATUS' }, conf);
      assert.equal(JSON.parse(status.stdout).code, 50);
      const del = await shim(
        { CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'ctr-down', CNI_IFNAME: 'eth0', CNI_NETNS: netns },
        conf,
      );
      assert.deepEqual([del.exitCode, del.stdout], [0, '']);
      await node.runtime.del(a);
      const gc = await shim({ CNI_COMMAND: 'GC' }, conf);
      assert.equal(gc.exitCode, 0);
      await node.deletePod('down');
    } finally {
      await node.startServer();
    }
  });
});
