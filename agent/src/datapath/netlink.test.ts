import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bridgeBatchLine, ipBatchLine } from './apply.js';
import { type CommandRunner, Netlink } from './netlink.js';
import { classifyStderr, isNetlinkError, parseBatchFailures } from './netlink-errors.js';

/** A runner that records calls and answers from a table. */
function fakeRunner(answer: (cmd: string, args: readonly string[]) => [number, string, string]) {
  const calls: string[] = [];
  const run: CommandRunner = async (cmd, args) => {
    calls.push([cmd, ...args].join(' '));
    const [exitCode, stdout, stderr] = answer(cmd, args);
    return { exitCode, stdout, stderr };
  };
  return { calls, run };
}

describe('Netlink', () => {
  it('maps iproute2 and nft stderr to codes', () => {
    const table: [string, string][] = [
      ['RTNETLINK answers: File exists', 'EEXIST'],
      ['Cannot find device "weft0"', 'ENODEV'],
      ['Error: ipv4: FIB table does not exist.', 'ENOTABLE'],
      ['RTNETLINK answers: No such process', 'ESRCH'],
      ['Error: No such file or directory\nlist table inet weft', 'ENOENT'],
      ['RTNETLINK answers: Operation not permitted', 'EPERM'],
      ['Error: Nexthop has invalid gateway.', 'ENETUNREACH'],
      ['something new', 'ENETLINK'],
    ];
    for (const [stderr, code] of table) assert.equal(classifyStderr(stderr), code, stderr);
  });

  it('splits batch stderr into the failing lines', () => {
    const lines = ['route add a', 'route add b', 'route del c'];
    const stderr =
      'RTNETLINK answers: File exists\nCommand failed -:2\nRTNETLINK answers: No such process\nCommand failed -:3\n';
    const failures = parseBatchFailures(stderr, lines);
    assert.deepEqual(
      failures.map((f) => [f.index, f.line, f.error.code]),
      [
        [1, 'route add b', 'EEXIST'],
        [2, 'route del c', 'ESRCH'],
      ],
    );
  });

  it('targets the namespace: ip/bridge with -n, nft and sysctl through nsenter', async () => {
    const { calls, run } = fakeRunner(() => [0, '[]', '']);
    const nl = new Netlink({ netns: 'wtdp-x', run });
    await nl.listRoutes(87);
    await nl.listFdb('weft.vxlan');
    await nl.runNftScript('flush ruleset');
    await nl.writeSysctls(new Map([['net.ipv4.ip_forward', '1']]));
    assert.deepEqual(calls, [
      'ip -n wtdp-x -json -4 route show table main proto 87',
      'bridge -n wtdp-x -json fdb show dev weft.vxlan',
      'nsenter --net=/run/netns/wtdp-x nft -f -',
      'nsenter --net=/run/netns/wtdp-x sysctl -q -w net.ipv4.ip_forward=1',
    ]);
  });

  it('reads a missing nft table as undefined and throws typed errors otherwise', async () => {
    const missing = fakeRunner(() => [1, '', 'Error: No such file or directory']);
    assert.equal(await new Netlink({ run: missing.run }).readNftTable('inet', 'weft'), undefined);
    const broken = fakeRunner(() => [2, '', 'Cannot find device "eth9"']);
    await assert.rejects(new Netlink({ run: broken.run }).listLinks(), (err) =>
      isNetlinkError(err, 'ENODEV'),
    );
  });

  it('writes batch lines with the route protocol and permanent entries', () => {
    const route = { dst: '10.244.3.0/24', gateway: '10.244.3.0', dev: 'weft.vxlan', onlink: true, metric: 0 };
    assert.equal(
      ipBatchLine({ op: 'route-add', route }, 87),
      'route add 10.244.3.0/24 via 10.244.3.0 dev weft.vxlan onlink proto 87 table main',
    );
    assert.equal(
      ipBatchLine(
        { op: 'neigh-replace', neigh: { dev: 'weft.vxlan', ip: '10.244.3.0', mac: '02:57:c0:a8:48:03' } },
        87,
      ),
      'neigh replace 10.244.3.0 lladdr 02:57:c0:a8:48:03 dev weft.vxlan nud permanent',
    );
    assert.equal(
      bridgeBatchLine({
        op: 'fdb-replace',
        fdb: { dev: 'weft.vxlan', mac: '02:57:c0:a8:48:03', dst: '192.168.72.3' },
      }),
      'fdb replace 02:57:c0:a8:48:03 dev weft.vxlan dst 192.168.72.3 self permanent',
    );
  });
});
