import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CniError } from './errors.js';
import { decodeRequestFrame, encodeRequestFrame, encodeResponseFrame, FrameError } from './framing.js';
import { parseCniArgs, parseCniRequest } from './request.js';

const conf = JSON.stringify({
  cniVersion: '1.1.0',
  name: 'weft',
  type: 'weft',
  socket: '/run/weft/cni.sock',
});
const v100 = JSON.stringify({ ...JSON.parse(conf), cniVersion: '1.0.0' });
const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'abc', CNI_NETNS: '/var/run/netns/x', CNI_IFNAME: 'eth0' };

function codeOf(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CniError, String(err));
    return err.cniCode;
  }
  return 0;
}

describe('parseCniRequest', () => {
  it('parses a valid ADD', () => {
    const req = parseCniRequest({ env, stdin: Buffer.from(conf) });
    assert.equal(req.command, 'ADD');
    assert.ok(req.command === 'ADD');
    assert.deepEqual(req.attachment, { containerId: 'abc', ifname: 'eth0', netns: '/var/run/netns/x' });
    assert.equal(req.conf.name, 'weft');
  });

  const table: Array<[string, Record<string, string>, string, number]> = [
    ['no command', { ...env, CNI_COMMAND: '' }, conf, 4],
    ['unknown command', { ...env, CNI_COMMAND: 'FROB' }, conf, 4],
    ['no netns on ADD', { ...env, CNI_NETNS: '' }, conf, 4],
    ['relative netns', { ...env, CNI_NETNS: 'x' }, conf, 4],
    ['bad container id', { ...env, CNI_CONTAINERID: 'a b' }, conf, 4],
    ['ifname too long', { ...env, CNI_IFNAME: 'eth0123456789012' }, conf, 4],
    ['not JSON', env, '{nope', 6],
    ['JSON array', env, '[]', 6],
    ['no name', env, JSON.stringify({ cniVersion: '1.0.0', type: 'weft' }), 7],
    ['bad name', env, JSON.stringify({ cniVersion: '1.0.0', type: 'weft', name: 'a/b' }), 7],
    ['unsupported version', env, JSON.stringify({ cniVersion: '0.2.0', type: 'weft', name: 'w' }), 1],
    ['CHECK without prevResult', { ...env, CNI_COMMAND: 'CHECK' }, conf, 7],
    [
      'GC with bad attachments',
      { CNI_COMMAND: 'GC' },
      JSON.stringify({ ...JSON.parse(conf), 'cni.dev/valid-attachments': [{}] }),
      7,
    ],
    ['STATUS at 1.0.0 (STATUS exists from 1.1.0 on)', { CNI_COMMAND: 'STATUS' }, v100, 1],
    ['GC at 1.0.0', { CNI_COMMAND: 'GC' }, v100, 1],
    ['ADD with a bad prevResult', env, JSON.stringify({ ...JSON.parse(conf), prevResult: { ips: 'x' } }), 7],
    [
      'DEL with a bad prevResult (DEL must succeed whatever is left)',
      { ...env, CNI_COMMAND: 'DEL' },
      JSON.stringify({ ...JSON.parse(conf), prevResult: { ips: 'x' } }),
      0,
    ],
  ];
  for (const [what, e, stdin, code] of table) {
    it(`${what} → ${code}`, () =>
      assert.equal(
        codeOf(() => parseCniRequest({ env: e, stdin: Buffer.from(stdin) })),
        code,
      ));
  }

  it('DEL needs no netns; STATUS/GC/VERSION need no attachment', () => {
    const del = parseCniRequest({
      env: { ...env, CNI_COMMAND: 'DEL', CNI_NETNS: '' },
      stdin: Buffer.from(conf),
    });
    assert.ok(del.command === 'DEL' && del.netns === undefined);
    assert.equal(
      parseCniRequest({ env: { CNI_COMMAND: 'STATUS' }, stdin: Buffer.from(conf) }).command,
      'STATUS',
    );
    const v = parseCniRequest({ env: { CNI_COMMAND: 'VERSION' }, stdin: Buffer.from('') });
    assert.deepEqual(v, { command: 'VERSION', cniVersion: '1.1.0' });
  });

  it("GC reads libcni's attachments: the spec's key, the #1101 alias, and null as none", () => {
    const gc = (extra: object) => {
      const r = parseCniRequest({
        env: { CNI_COMMAND: 'GC' },
        stdin: Buffer.from(JSON.stringify({ ...JSON.parse(conf), ...extra })),
      });
      assert.ok(r.command === 'GC');
      return r.conf.validAttachments;
    };
    const one = [{ containerID: 'c1', ifname: 'eth0' }];
    assert.deepEqual(gc({ 'cni.dev/valid-attachments': one, 'cni.dev/attachments': [] }), [
      { containerId: 'c1', ifname: 'eth0' },
    ]);
    assert.deepEqual(gc({ 'cni.dev/attachments': one }), [{ containerId: 'c1', ifname: 'eth0' }]);
    assert.deepEqual(gc({ 'cni.dev/valid-attachments': null, 'cni.dev/attachments': null }), []);
    assert.equal(gc({}), undefined, 'no list at all: cmdGc refuses (7) rather than release everything');
  });
});

describe('parseCniArgs', () => {
  const k8s = 'IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-7d9f.x;K8S_POD_INFRA_CONTAINER_ID=abc';
  it('reads the pod identity and ignores other keys', () => {
    assert.deepEqual(parseCniArgs(k8s), { namespace: 'shop', name: 'web-7d9f.x' });
    assert.deepEqual(parseCniArgs('K8S_POD_NAME=a;K8S_POD_NAMESPACE=b'), { namespace: 'b', name: 'a' });
  });
  it('no K8S_* keys (or no CNI_ARGS at all): not a Kubernetes pod', () => {
    assert.equal(parseCniArgs(undefined), undefined);
    assert.equal(parseCniArgs(''), undefined);
    assert.equal(parseCniArgs('IgnoreUnknown=1;FOO=bar'), undefined);
  });
  const bad: Array<[string, string]> = [
    ['a pair without "="', 'K8S_POD_NAMESPACE=a;junk'],
    ['a pair with two "="', 'K8S_POD_NAMESPACE=a=b;K8S_POD_NAME=c'],
    ['an empty key', '=x;K8S_POD_NAME=c'],
    ['a trailing ";"', 'K8S_POD_NAMESPACE=a;K8S_POD_NAME=c;'],
    ['a key twice', 'K8S_POD_NAMESPACE=a;K8S_POD_NAMESPACE=b;K8S_POD_NAME=c'],
    ['a name without a namespace', 'K8S_POD_NAME=c'],
    ['a namespace without a name', 'K8S_POD_NAMESPACE=a'],
    ['an empty name', 'K8S_POD_NAMESPACE=a;K8S_POD_NAME='],
    ['an upper-case namespace', 'K8S_POD_NAMESPACE=Shop;K8S_POD_NAME=c'],
    ['a namespace with a dot', 'K8S_POD_NAMESPACE=a.b;K8S_POD_NAME=c'],
    ['a name with a slash', 'K8S_POD_NAMESPACE=a;K8S_POD_NAME=c/d'],
    ['a name too long', `K8S_POD_NAMESPACE=a;K8S_POD_NAME=${'x'.repeat(254)}`],
  ];
  for (const [what, value] of bad) {
    it(`${what} → 4 naming CNI_ARGS`, () => {
      const err = (() => {
        try {
          parseCniArgs(value);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      assert.ok(err instanceof CniError, `${value}: no error`);
      assert.equal(err.cniCode, 4);
      assert.match(err.message, /CNI_ARGS/);
    });
  }
  it('ADD and CHECK carry the identity; a bad CNI_ARGS fails the request before the config', () => {
    const req = parseCniRequest({ env: { ...env, CNI_ARGS: k8s }, stdin: Buffer.from(conf) });
    assert.ok(req.command === 'ADD');
    assert.deepEqual(req.attachment.pod, { namespace: 'shop', name: 'web-7d9f.x' });
    assert.equal(
      codeOf(() => parseCniRequest({ env: { ...env, CNI_ARGS: 'x' }, stdin: Buffer.from('{') })),
      4,
    );
    const del = { ...env, CNI_COMMAND: 'DEL', CNI_ARGS: 'x' };
    assert.equal(
      codeOf(() => parseCniRequest({ env: del, stdin: Buffer.from(conf) })),
      0,
      'DEL ignores it',
    );
  });
});

describe('framing', () => {
  it('round-trips a request and waits for all bytes', () => {
    const frame = encodeRequestFrame(env, conf);
    assert.equal(decodeRequestFrame(frame.subarray(0, frame.length - 1)), undefined);
    const raw = decodeRequestFrame(frame);
    assert.deepEqual(raw?.env, env);
    assert.equal(raw?.stdin.toString(), conf);
  });
  it('accepts a request without environment and an empty body', () => {
    assert.deepEqual(decodeRequestFrame(Buffer.from('WEFTCNI 1 0\n\n'))?.env, {});
  });
  it('rejects bad headers, oversized bodies and trailing bytes', () => {
    assert.throws(() => decodeRequestFrame(Buffer.from('HELLO\n\n')), FrameError);
    assert.throws(() => decodeRequestFrame(Buffer.from('WEFTCNI 1 99999999\n\n')), FrameError);
    assert.throws(() => decodeRequestFrame(Buffer.from('WEFTCNI 1 1\n\nab')), FrameError);
  });
  it('encodes a response with its byte length', () => {
    assert.equal(encodeResponseFrame(1, 'é').toString(), 'WEFTCNI 1 1 2\né');
  });
});
