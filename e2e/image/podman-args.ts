/**
 * Turns the agent DaemonSet's container spec into `podman run` arguments for one node of
 * the local cluster, doing what the kubelet does for that pod (pure): downward-API env,
 * the in-cluster API address, the ServiceAccount token volume, every declared mount,
 * the security context and hostNetwork (the node's network namespace).
 */
import { type AgentPodSpec, type EnvVar, ManifestError, type Mount } from './daemonset-spec.js';

/** Where the kubelet puts the projected ServiceAccount token volume. */
export const SERVICE_ACCOUNT_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Settings these machines need (see scripts/image.sh): runc, rlimits within the hard limits. */
export const RUNTIME_ARGS: readonly string[] = [
  '--runtime',
  'runc',
  '--ulimit',
  'nofile=4096:4096',
  '--ulimit',
  'nproc=4096:4096',
];

/** The node-side facts for one container: what each volume is on this node. */
export interface NodeBinding {
  readonly nodeName: string;
  readonly nodeIP: string;
  /** podman container name (also the pod name the downward API reports). */
  readonly containerName: string;
  /** Path of the node's network namespace (hostNetwork). */
  readonly netnsPath: string;
  /** The manifest's hostPath → the path that plays it on this machine for this node. */
  readonly hostPaths: Readonly<Record<string, string>>;
  /** ConfigMap name → directory holding one file per key. */
  readonly configMapDirs: Readonly<Record<string, string>>;
  /** Secret name → directory holding one file per key (empty for a missing optional one). */
  readonly secretDirs: Readonly<Record<string, string>>;
  /** Directory with token, ca.crt and namespace. */
  readonly serviceAccountDir: string;
  readonly apiServer: { readonly host: string; readonly port: string };
  /** Declared mounts to leave out (by volumeMount name): for testing the agent's preflight. */
  readonly omitMounts?: readonly string[];
  /** Extra env appended after the declared env (e.g. log level). */
  readonly extraEnv?: Readonly<Record<string, string>>;
}

/** The value of a downward-API fieldRef for this node's pod (hostNetwork: pod IP = node IP). */
export function resolveFieldRef(fieldPath: string, spec: AgentPodSpec, b: NodeBinding): string {
  switch (fieldPath) {
    case 'spec.nodeName':
      return b.nodeName;
    case 'metadata.name':
      return b.containerName;
    case 'metadata.namespace':
      return spec.namespace;
    case 'spec.serviceAccountName':
      return spec.serviceAccountName;
    case 'status.hostIP':
    case 'status.podIP':
      return b.nodeIP;
    default:
      throw new ManifestError(`env fieldRef ${fieldPath}`, 'not supported by the local node runtime');
  }
}

function envValue(e: EnvVar, spec: AgentPodSpec, b: NodeBinding): string {
  return 'value' in e.source ? e.source.value : resolveFieldRef(e.source.fieldRef, spec, b);
}

/** The host side of a mount on this node, or a ManifestError naming the volume. */
export function mountSource(m: Mount, b: NodeBinding): string {
  const v = m.volume;
  let base: string | undefined;
  if (v.kind === 'hostPath') base = b.hostPaths[v.path];
  else if (v.kind === 'configMap') base = b.configMapDirs[v.name];
  else base = b.secretDirs[v.secretName];
  if (base === undefined) {
    const what = v.kind === 'hostPath' ? v.path : v.kind === 'configMap' ? v.name : v.secretName;
    throw new ManifestError(`volume ${m.name}`, `no ${v.kind} ${what} on node ${b.nodeName}`);
  }
  return m.subPath === undefined ? base : `${base}/${m.subPath}`;
}

function mountOptions(m: Mount): string {
  const opts: string[] = [];
  const ro = m.readOnly || m.volume.kind !== 'hostPath'; // the kubelet mounts these read-only
  if (ro) opts.push('ro');
  if (m.propagation === 'HostToContainer') opts.push('rslave');
  if (m.propagation === 'Bidirectional') opts.push('rshared');
  return opts.length > 0 ? `:${opts.join(',')}` : '';
}

/** `podman run` arguments (after `podman`) for the agent on node `b`. */
export function planPodmanRun(spec: AgentPodSpec, b: NodeBinding): string[] {
  if (!spec.hostNetwork)
    throw new ManifestError('hostNetwork', 'the local node runtime runs hostNetwork pods only');
  const args = ['run', '--detach', '--name', b.containerName, ...RUNTIME_ARGS, '--pull=never'];
  args.push('--network', `ns:${b.netnsPath}`, '--hostname', b.nodeName);
  if (spec.privileged) args.push('--privileged');
  if (spec.runAsUser !== undefined) {
    args.push(
      '--user',
      spec.runAsGroup === undefined ? `${spec.runAsUser}` : `${spec.runAsUser}:${spec.runAsGroup}`,
    );
  }
  for (const cap of spec.capAdd) args.push('--cap-add', cap);
  for (const cap of spec.capDrop) args.push('--cap-drop', cap);
  const env: Array<[string, string]> = [
    ['KUBERNETES_SERVICE_HOST', b.apiServer.host],
    ['KUBERNETES_SERVICE_PORT', b.apiServer.port],
    ...spec.env.map((e): [string, string] => [e.name, envValue(e, spec, b)]),
    ...Object.entries(b.extraEnv ?? {}),
  ];
  for (const [k, v] of env) args.push('--env', `${k}=${v}`);
  const omit = new Set(b.omitMounts ?? []);
  for (const m of spec.mounts) {
    if (omit.has(m.name)) continue;
    args.push('--volume', `${mountSource(m, b)}:${m.mountPath}${mountOptions(m)}`);
  }
  args.push('--volume', `${b.serviceAccountDir}:${SERVICE_ACCOUNT_MOUNT}:ro`);
  if (spec.command.length > 0) args.push('--entrypoint', JSON.stringify(spec.command));
  args.push(spec.image, ...spec.args);
  return args;
}

/** Translates a path inside the container to the machine path that backs it on this node. */
export function hostPathOf(containerPath: string, spec: AgentPodSpec, b: NodeBinding): string | undefined {
  let best: Mount | undefined;
  for (const m of spec.mounts) {
    const inside = containerPath === m.mountPath || containerPath.startsWith(`${m.mountPath}/`);
    if (inside && (!best || m.mountPath.length > best.mountPath.length)) best = m;
  }
  if (!best) return undefined;
  return mountSource(best, b) + containerPath.slice(best.mountPath.length);
}
