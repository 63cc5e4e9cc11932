import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { inClusterTarget, KubeConfigError, loadKubeTarget, parseKubeConfig } from './kubeconfig.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-kubeconfig-'));
writeFileSync(join(dir, 'ca.crt'), 'CA-PEM');
writeFileSync(join(dir, 'token'), 'file-token\n');

function doc(cluster: object, user: object, extra: object = {}): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'ctx',
    contexts: [
      { name: 'other', context: { cluster: 'nope', user: 'nope' } },
      { name: 'ctx', context: { cluster: 'k', user: 'u' } },
    ],
    clusters: [{ name: 'k', cluster }],
    users: [{ name: 'u', user }],
    ...extra,
  });
}

const fieldIs = (field: string) => (err: unknown) => err instanceof KubeConfigError && err.field === field;

after(() => rmSync(dir, { recursive: true, force: true }));

describe('parseKubeConfig', () => {
  it('reads YAML with inline CA data, a token and tls-server-name for the current context', () => {
    const yaml = `apiVersion: v1
kind: Config
current-context: ctx
clusters:
- name: k
  cluster:
    server: https://10.0.0.1:6443/
    certificate-authority-data: ${Buffer.from('CA-DATA').toString('base64')}
    tls-server-name: kubernetes.default
contexts:
- name: ctx
  context:
    cluster: k
    user: u
users:
- name: u
  user:
    token: abc
`;
    const t = parseKubeConfig(yaml, dir);
    assert.equal(t.server, 'https://10.0.0.1:6443');
    assert.equal(t.ca?.toString(), 'CA-DATA');
    assert.equal(t.tlsServerName, 'kubernetes.default');
    assert.equal(t.token?.(), 'abc');
    assert.equal(t.cert, undefined);
    assert.equal(t.insecureSkipTLSVerify, false);
  });

  it('resolves CA, client certificate/key and tokenFile paths against the kubeconfig folder', () => {
    writeFileSync(join(dir, 'c.crt'), 'CERT');
    writeFileSync(join(dir, 'c.key'), 'KEY');
    const t = parseKubeConfig(
      doc(
        { server: 'https://h:443', 'certificate-authority': 'ca.crt' },
        { 'client-certificate': 'c.crt', 'client-key': join(dir, 'c.key'), tokenFile: 'token' },
      ),
      dir,
    );
    assert.equal(t.ca?.toString(), 'CA-PEM');
    assert.equal(t.cert?.toString(), 'CERT');
    assert.equal(t.key?.toString(), 'KEY');
    assert.equal(t.token?.(), 'file-token');
  });

  it('accepts insecure-skip-tls-verify and JSON, as written by the local cluster harness', () => {
    const t = parseKubeConfig(
      doc({ server: 'http://127.0.0.1:8080', 'insecure-skip-tls-verify': true }, {}),
      dir,
    );
    assert.equal(t.insecureSkipTLSVerify, true);
    assert.equal(t.token, undefined);
  });

  const bad: Array<[string, string, string]> = [
    ['no current-context', doc({ server: 'https://h' }, {}, { 'current-context': '' }), 'current-context'],
    ['an unknown context', doc({ server: 'https://h' }, {}, { 'current-context': 'zz' }), 'contexts'],
    ['no server', doc({}, {}), 'clusters[k].cluster.server'],
    ['a bad server URL', doc({ server: 'h:443' }, {}), 'clusters[k].cluster.server'],
    [
      'a missing CA file',
      doc({ server: 'https://h', 'certificate-authority': 'none.crt' }, {}),
      'clusters[k].cluster.certificate-authority',
    ],
    [
      'a cert without key',
      doc({ server: 'https://h' }, { 'client-certificate-data': 'Q0VSVA==' }),
      'users[u].user.client-key',
    ],
    ['a non-string token', doc({ server: 'https://h' }, { token: 42 }), 'users[u].user.token'],
    ['bad YAML', 'clusters: [', '<document>'],
  ];
  for (const [title, text, field] of bad) {
    it(`rejects ${title}, naming ${field}`, () => {
      assert.throws(() => parseKubeConfig(text, dir), fieldIs(field));
    });
  }

  it('loads a file path and reports an unreadable one as KUBECONFIG', () => {
    const path = join(dir, 'config');
    writeFileSync(path, doc({ server: 'https://h', 'certificate-authority': 'ca.crt' }, { token: 't' }));
    assert.equal(loadKubeTarget(path, {}).ca?.toString(), 'CA-PEM');
    assert.throws(() => loadKubeTarget(join(dir, 'missing'), {}), fieldIs('KUBECONFIG'));
  });
});

describe('inClusterTarget', () => {
  it('uses the service account token and CA and the service address, IPv6 in brackets', () => {
    const t = inClusterTarget({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, dir);
    assert.equal(t.server, 'https://[fd00::1]:443');
    assert.equal(t.ca?.toString(), 'CA-PEM');
    assert.equal(t.token?.(), 'file-token');
  });

  it('names the missing piece', () => {
    assert.throws(
      () => inClusterTarget({ KUBERNETES_SERVICE_PORT: '443' }, dir),
      fieldIs('KUBERNETES_SERVICE_HOST'),
    );
    assert.throws(
      () =>
        inClusterTarget({ KUBERNETES_SERVICE_HOST: 'h', KUBERNETES_SERVICE_PORT: '443' }, join(dir, 'none')),
      fieldIs(join(dir, 'none', 'token')),
    );
  });
});
