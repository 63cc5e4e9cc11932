import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import type { ApiEndpoint } from './api-client.js';
import { runChecked } from './exec.js';
import type { ControlPlaneFiles } from './flags.js';
import { tokenFileLine } from './kubeconfig.js';
import { loopbackIp, primaryServiceIp } from './plan.js';
import type { IpFamilyMode } from './spec.js';

export interface ClusterTokens {
  admin: string; // user weft-e2e-admin in system:masters
  controllerManager: string; // user system:kube-controller-manager in system:masters
  /** Tokens of the extra users asked for (kubelets, kube-proxy, kube-scheduler), by user name. */
  users: Record<string, string>;
}

/** A token user of the static token file: a kubelet is system:node:<name> in system:nodes. */
export interface TokenUser {
  user: string;
  groups: string[];
}

export const ADMIN_USER = 'weft-e2e-admin';
const CONTROLLER_MANAGER_USER = 'system:kube-controller-manager';
const CERT_DAYS = '30';
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * The IP addresses the API server is reached at (pure): its underlay address, the control
 * plane's loopback (127.0.0.1 and, IPv6-only, ::1) and the ClusterIP of the `kubernetes` Service.
 */
export function servingCertIps(ipFamily: IpFamilyMode | undefined, apiServerIp: string): string[] {
  return [...new Set([apiServerIp, '127.0.0.1', loopbackIp(ipFamily), primaryServiceIp(ipFamily)])];
}

/** Subject alternative names of the API server's serving certificate (pure). */
export function servingCertSans(ips: readonly string[]): string[] {
  return [
    ...ips.map((ip) => `IP:${ip}`),
    'DNS:localhost',
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
    'DNS:kubernetes.default.svc.cluster.local',
  ];
}

/**
 * Creates the cluster's own CA, the API server's serving certificate (signed by that CA,
 * so every client verifies TLS), the ServiceAccount signing key pair and the static
 * token file. Everything private is mode 0600 inside the run dir.
 */
export async function applyPki(
  files: ControlPlaneFiles,
  apiServerIps: readonly string[],
  extraUsers: readonly TokenUser[] = [],
  kubeletClient = false,
): Promise<ClusterTokens> {
  await mkdir(files.pkiDir, { recursive: true, mode: 0o700 });
  await runChecked([
    'openssl',
    'req',
    '-x509',
    ...EC,
    '-keyout',
    files.caKey,
    '-out',
    files.caCert,
    '-days',
    CERT_DAYS,
    '-subj',
    '/CN=weft-e2e-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await signedCert(files, files.servingKey, files.servingCert, '/CN=kube-apiserver', [
    `subjectAltName=${servingCertSans(apiServerIps).join(',')}`,
    'extendedKeyUsage=serverAuth',
  ]);
  await runChecked([
    'openssl',
    'genpkey',
    '-algorithm',
    'EC',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-out',
    files.saKey,
  ]);
  await runChecked(['openssl', 'pkey', '-in', files.saKey, '-pubout', '-out', files.saPub]);
  if (kubeletClient) await applyKubeletClientCert(files);
  const tokens: ClusterTokens = { admin: newToken(), controllerManager: newToken(), users: {} };
  const lines = [
    tokenFileLine(tokens.admin, ADMIN_USER, ['system:masters']),
    tokenFileLine(tokens.controllerManager, CONTROLLER_MANAGER_USER, ['system:masters']),
  ];
  for (const u of extraUsers) {
    const t = newToken();
    tokens.users[u.user] = t;
    lines.push(tokenFileLine(t, u.user, u.groups));
  }
  await writeFile(files.tokenFile, `${lines.join('\n')}\n`, { mode: 0o600 });
  for (const f of [files.caKey, files.servingKey, files.saKey]) await chmod(f, 0o600);
  return tokens;
}

/**
 * The API server's client certificate towards kubelets (exec, logs, port-forward): signed by
 * the cluster CA, which every kubelet trusts for x509 authentication; group system:masters,
 * so kubelet's webhook authorization allows it.
 */
async function applyKubeletClientCert(files: ControlPlaneFiles): Promise<void> {
  await signedCert(
    files,
    files.kubeletClientKey,
    files.kubeletClientCert,
    '/O=system:masters/CN=kube-apiserver-kubelet-client',
    ['extendedKeyUsage=clientAuth'],
  );
  await chmod(files.kubeletClientKey, 0o600);
}

/** A new EC key and a leaf certificate for it, signed by the cluster CA, with `extensions` added. */
async function signedCert(
  files: ControlPlaneFiles,
  key: string,
  cert: string,
  subject: string,
  extensions: readonly string[],
): Promise<void> {
  const ext = [
    ...extensions,
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
  ].flatMap((e) => ['-addext', e]);
  await runChecked([
    'openssl',
    'req',
    '-x509',
    ...EC,
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    CERT_DAYS,
    '-CA',
    files.caCert,
    '-CAkey',
    files.caKey,
    '-subj',
    subject,
    ...ext,
  ]);
}

function newToken(): string {
  return randomBytes(24).toString('hex');
}

/** The root-netns admin endpoint of a running cluster, from its run dir (admin token is the token file's first line). */
export function readAdminEndpoint(files: ControlPlaneFiles, adminPort: number): ApiEndpoint {
  return {
    url: `https://127.0.0.1:${adminPort}`,
    caPem: readFileSync(files.caCert, 'utf8'),
    token: readFileSync(files.tokenFile, 'utf8').split(',')[0] ?? '',
  };
}
