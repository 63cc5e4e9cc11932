import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { load as loadYaml } from 'js-yaml';
import { errorMessage, WeftError } from '../../../common/errors.js';

/** A kubeconfig (or in-cluster setup) that cannot be used: names the field at fault. */
export class KubeConfigError extends WeftError {
  readonly field: string;
  constructor(field: string, reason: string, options?: { cause?: unknown }) {
    super('EKUBECONFIG', `kubeconfig ${field}: ${reason}`, options);
    this.field = field;
  }
}

/** Everything the agent's API client needs to reach and authenticate to the API server. */
export interface KubeTarget {
  /** Base URL without a trailing slash, e.g. https://10.96.0.1:443. */
  readonly server: string;
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  /** SNI and certificate name to expect instead of the server URL's host. */
  readonly tlsServerName?: string;
  readonly insecureSkipTLSVerify: boolean;
  /** Returns the bearer token to send now (re-read from its file, since bound tokens rotate). */
  readonly token?: () => string;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

type Doc = Record<string, unknown>;

const asDoc = (v: unknown): Doc | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Doc) : undefined;

function str(doc: Doc, key: string, field: string): string | undefined {
  const v = doc[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string')
    throw new KubeConfigError(`${field}.${key}`, `expected a string, got ${typeof v}`);
  return v;
}

function readFile(path: string, field: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err: unknown) {
    throw new KubeConfigError(field, `cannot read ${path}: ${errorMessage(err)}`, { cause: err });
  }
}

function decodeData(b64: string, field: string): Buffer {
  const buf = Buffer.from(b64, 'base64');
  if (buf.length === 0) throw new KubeConfigError(field, 'not valid base64');
  return buf;
}

/** A token read from a file at most once per `refreshMs` (kubelet rotates projected tokens). */
export function fileTokenSource(path: string, field: string, refreshMs = 60_000): () => string {
  let cached = '';
  let readAt = Number.NEGATIVE_INFINITY;
  return () => {
    const now = Date.now();
    if (now - readAt >= refreshMs || cached === '') {
      cached = readFile(path, field).toString('utf8').trim();
      readAt = now;
    }
    return cached;
  };
}

/** Inline `x-data` wins over the file `x` (relative to the kubeconfig's folder). */
function pem(doc: Doc, key: string, field: string, base: string): Buffer | undefined {
  const data = str(doc, `${key}-data`, field);
  if (data) return decodeData(data, `${field}.${key}-data`);
  const file = str(doc, key, field);
  return file ? readFile(resolve(base, file), `${field}.${key}`) : undefined;
}

function named(doc: Doc, list: string, name: string, inner: string): Doc {
  const items = doc[list];
  if (!Array.isArray(items)) throw new KubeConfigError(list, 'missing or not a list');
  const entry = items.map(asDoc).find((e) => e?.name === name);
  if (!entry) throw new KubeConfigError(list, `no entry named ${JSON.stringify(name)}`);
  return asDoc(entry[inner]) ?? {};
}

/** Parses kubeconfig text (YAML or JSON) for its current context. `base` resolves relative file paths. */
export function parseKubeConfig(text: string, base: string): KubeTarget {
  let parsed: unknown;
  try {
    parsed = loadYaml(text);
  } catch (err: unknown) {
    throw new KubeConfigError('<document>', `not valid YAML: ${errorMessage(err)}`, { cause: err });
  }
  const doc = asDoc(parsed);
  if (!doc) throw new KubeConfigError('<document>', 'not a mapping');
  const contextName = str(doc, 'current-context', '');
  if (!contextName) throw new KubeConfigError('current-context', 'missing');
  const context = named(doc, 'contexts', contextName, 'context');
  const clusterName = str(context, 'cluster', `contexts[${contextName}].context`);
  if (!clusterName) throw new KubeConfigError(`contexts[${contextName}].context.cluster`, 'missing');
  const cluster = named(doc, 'clusters', clusterName, 'cluster');
  const cf = `clusters[${clusterName}].cluster`;
  const userName = str(context, 'user', `contexts[${contextName}].context`);
  const user = userName ? named(doc, 'users', userName, 'user') : {};
  const uf = `users[${userName}].user`;
  const server = str(cluster, 'server', cf);
  if (!server) throw new KubeConfigError(`${cf}.server`, 'missing');
  checkServer(server, `${cf}.server`);
  const token = str(user, 'token', uf);
  const tokenFile = str(user, 'tokenFile', uf);
  const ca = pem(cluster, 'certificate-authority', cf, base);
  const cert = pem(user, 'client-certificate', uf, base);
  const key = pem(user, 'client-key', uf, base);
  if ((cert === undefined) !== (key === undefined)) {
    throw new KubeConfigError(`${uf}.client-key`, 'client certificate and key must be given together');
  }
  const tlsServerName = str(cluster, 'tls-server-name', cf);
  return {
    server: server.replace(/\/+$/, ''),
    insecureSkipTLSVerify: cluster['insecure-skip-tls-verify'] === true,
    ...(ca ? { ca } : {}),
    ...(cert && key ? { cert, key } : {}),
    ...(tlsServerName ? { tlsServerName } : {}),
    ...(token
      ? { token: () => token }
      : tokenFile
        ? { token: fileTokenSource(resolve(base, tokenFile), `${uf}.tokenFile`) }
        : {}),
  };
}

function checkServer(server: string, field: string): void {
  let url: URL;
  try {
    url = new URL(server);
  } catch (err: unknown) {
    throw new KubeConfigError(field, `not a URL: ${JSON.stringify(server)}`, { cause: err });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new KubeConfigError(field, `unsupported scheme ${url.protocol}`);
  }
}

/** The in-cluster service account: token + CA from `dir`, address from KUBERNETES_SERVICE_HOST/PORT. */
export function inClusterTarget(env: NodeJS.ProcessEnv, dir = SERVICE_ACCOUNT_DIR): KubeTarget {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host) throw new KubeConfigError('KUBERNETES_SERVICE_HOST', 'not set (not running in a cluster?)');
  if (!port) throw new KubeConfigError('KUBERNETES_SERVICE_PORT', 'not set (not running in a cluster?)');
  const token = fileTokenSource(`${dir}/token`, `${dir}/token`);
  token(); // fail now, not on the first request, when the token is missing
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    ca: readFile(`${dir}/ca.crt`, `${dir}/ca.crt`),
    insecureSkipTLSVerify: false,
    token,
  };
}

/** Loads the kubeconfig at `path`, or the in-cluster service account when no path is given. */
export function loadKubeTarget(path: string | undefined, env: NodeJS.ProcessEnv = process.env): KubeTarget {
  if (!path) return inClusterTarget(env);
  const text = readFile(path, 'KUBECONFIG').toString('utf8');
  return parseKubeConfig(text, dirname(resolve(path)));
}
