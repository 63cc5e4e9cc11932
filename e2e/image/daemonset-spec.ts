/**
 * Reads the agent DaemonSet from manifests/ into the facts a node runtime needs to run
 * its container: image, command, env, security context, mounts with their volumes,
 * hostNetwork, ServiceAccount and probes (pure; no defaults invented beyond the
 * kubelet's own).
 */
import { load as loadYaml } from 'js-yaml';
import { WeftError } from '../../common/errors.js';

export class ManifestError extends WeftError {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super('EMANIFEST', `${field}: ${reason}`);
  }
}

export type EnvSource = { value: string } | { fieldRef: string };
export interface EnvVar {
  readonly name: string;
  readonly source: EnvSource;
}

export type VolumeSource =
  | { kind: 'hostPath'; path: string; type: string }
  | { kind: 'configMap'; name: string; optional: boolean }
  | { kind: 'secret'; secretName: string; optional: boolean };

export interface Mount {
  readonly name: string;
  readonly mountPath: string;
  readonly subPath?: string;
  readonly readOnly: boolean;
  readonly propagation: 'None' | 'HostToContainer' | 'Bidirectional';
  readonly volume: VolumeSource;
}

export interface HttpProbe {
  readonly path: string;
  readonly port: number;
  readonly host: string;
  readonly periodSeconds: number;
  readonly failureThreshold: number;
  readonly timeoutSeconds: number;
}

export interface AgentPodSpec {
  readonly containerName: string;
  readonly image: string;
  readonly command: string[];
  readonly args: string[];
  readonly env: EnvVar[];
  readonly privileged: boolean;
  readonly runAsUser?: number;
  readonly runAsGroup?: number;
  readonly capAdd: string[];
  readonly capDrop: string[];
  readonly hostNetwork: boolean;
  readonly serviceAccountName: string;
  readonly namespace: string;
  readonly mounts: Mount[];
  readonly liveness?: HttpProbe;
  readonly readiness?: HttpProbe;
}

type Obj = Record<string, unknown>;

function obj(v: unknown, field: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new ManifestError(field, 'not an object');
  return v as Obj;
}
function list(v: unknown, field: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new ManifestError(field, 'not a list');
  return v;
}
function str(v: unknown, field: string): string {
  if (typeof v !== 'string' || v === '') throw new ManifestError(field, 'missing or not a string');
  return v;
}
function strList(v: unknown, field: string): string[] {
  return list(v, field).map((x, i) => str(x, `${field}[${i}]`));
}

/** Parses the DaemonSet YAML text and picks `containerName` (default: the first container). */
export function parseAgentDaemonSet(yamlText: string, containerName?: string): AgentPodSpec {
  const ds = obj(loadYaml(yamlText), 'DaemonSet');
  if (ds.kind !== 'DaemonSet')
    throw new ManifestError('kind', `expected DaemonSet, found ${String(ds.kind)}`);
  const namespace = str(obj(ds.metadata, 'metadata').namespace, 'metadata.namespace');
  const pod = obj(obj(obj(ds.spec, 'spec').template, 'spec.template').spec, 'spec.template.spec');
  const containers = list(pod.containers, 'spec.template.spec.containers').map((c, i) =>
    obj(c, `containers[${i}]`),
  );
  const idx = containerName === undefined ? 0 : containers.findIndex((c) => c.name === containerName);
  const c = containers[idx];
  if (!c) throw new ManifestError('containers', `no container ${containerName ?? '(any)'}`);
  const at = `containers[${idx}]`;
  const volumes = new Map<string, VolumeSource>();
  list(pod.volumes, 'spec.template.spec.volumes').forEach((v, i) => {
    const vol = obj(v, `volumes[${i}]`);
    volumes.set(str(vol.name, `volumes[${i}].name`), parseVolume(vol, `volumes[${i}]`));
  });
  const sc = c.securityContext === undefined ? {} : obj(c.securityContext, `${at}.securityContext`);
  const caps =
    sc.capabilities === undefined ? {} : obj(sc.capabilities, `${at}.securityContext.capabilities`);
  const spec: AgentPodSpec = {
    containerName: str(c.name, `${at}.name`),
    image: str(c.image, `${at}.image`),
    command: strList(c.command, `${at}.command`),
    args: strList(c.args, `${at}.args`),
    env: list(c.env, `${at}.env`).map((e, i) => parseEnv(obj(e, `${at}.env[${i}]`), `${at}.env[${i}]`)),
    privileged: sc.privileged === true,
    capAdd: strList(caps.add, `${at}.securityContext.capabilities.add`),
    capDrop: strList(caps.drop, `${at}.securityContext.capabilities.drop`),
    hostNetwork: pod.hostNetwork === true,
    serviceAccountName: typeof pod.serviceAccountName === 'string' ? pod.serviceAccountName : 'default',
    namespace,
    mounts: list(c.volumeMounts, `${at}.volumeMounts`).map((m, i) =>
      parseMount(obj(m, `${at}.volumeMounts[${i}]`), `${at}.volumeMounts[${i}]`, volumes),
    ),
    ...optionalNumber('runAsUser', sc.runAsUser, `${at}.securityContext.runAsUser`),
    ...optionalNumber('runAsGroup', sc.runAsGroup, `${at}.securityContext.runAsGroup`),
    ...optionalProbe('liveness', c.livenessProbe, `${at}.livenessProbe`),
    ...optionalProbe('readiness', c.readinessProbe, `${at}.readinessProbe`),
  };
  return spec;
}

function optionalNumber<K extends string>(key: K, v: unknown, field: string): Partial<Record<K, number>> {
  if (v === undefined) return {};
  if (!Number.isInteger(v)) throw new ManifestError(field, 'not an integer');
  return { [key]: v as number } as Partial<Record<K, number>>;
}

function optionalProbe<K extends string>(key: K, v: unknown, field: string): Partial<Record<K, HttpProbe>> {
  if (v === undefined) return {};
  const p = obj(v, field);
  const http = obj(p.httpGet, `${field}.httpGet`);
  if (typeof http.port !== 'number')
    throw new ManifestError(`${field}.httpGet.port`, 'named ports are not supported');
  const num = (name: string, dflt: number) => {
    const value = p[name] ?? dflt;
    if (!Number.isInteger(value) || (value as number) < 1)
      throw new ManifestError(`${field}.${name}`, 'not a positive integer');
    return value as number;
  };
  const probe: HttpProbe = {
    path: typeof http.path === 'string' ? http.path : '/',
    port: http.port,
    host: typeof http.host === 'string' ? http.host : '127.0.0.1',
    periodSeconds: num('periodSeconds', 10),
    failureThreshold: num('failureThreshold', 3),
    timeoutSeconds: num('timeoutSeconds', 1),
  };
  return { [key]: probe } as Partial<Record<K, HttpProbe>>;
}

function parseEnv(e: Obj, field: string): EnvVar {
  const name = str(e.name, `${field}.name`);
  if (e.valueFrom !== undefined) {
    const from = obj(e.valueFrom, `${field}.valueFrom`);
    const ref = obj(from.fieldRef, `${field}.valueFrom.fieldRef`);
    return { name, source: { fieldRef: str(ref.fieldPath, `${field}.valueFrom.fieldRef.fieldPath`) } };
  }
  return { name, source: { value: typeof e.value === 'string' ? e.value : '' } };
}

function parseVolume(v: Obj, field: string): VolumeSource {
  if (v.hostPath !== undefined) {
    const hp = obj(v.hostPath, `${field}.hostPath`);
    return { kind: 'hostPath', path: str(hp.path, `${field}.hostPath.path`), type: String(hp.type ?? '') };
  }
  if (v.configMap !== undefined) {
    const cm = obj(v.configMap, `${field}.configMap`);
    return {
      kind: 'configMap',
      name: str(cm.name, `${field}.configMap.name`),
      optional: cm.optional === true,
    };
  }
  if (v.secret !== undefined) {
    const s = obj(v.secret, `${field}.secret`);
    return {
      kind: 'secret',
      secretName: str(s.secretName, `${field}.secret.secretName`),
      optional: s.optional === true,
    };
  }
  throw new ManifestError(field, 'only hostPath, configMap and secret volumes are supported');
}

function parseMount(m: Obj, field: string, volumes: Map<string, VolumeSource>): Mount {
  const name = str(m.name, `${field}.name`);
  const volume = volumes.get(name);
  if (!volume) throw new ManifestError(`${field}.name`, `no volume named ${name}`);
  const propagation = m.mountPropagation ?? 'None';
  if (propagation !== 'None' && propagation !== 'HostToContainer' && propagation !== 'Bidirectional') {
    throw new ManifestError(`${field}.mountPropagation`, `unknown value ${String(propagation)}`);
  }
  return {
    name,
    mountPath: str(m.mountPath, `${field}.mountPath`),
    ...(m.subPath === undefined ? {} : { subPath: str(m.subPath, `${field}.subPath`) }),
    readOnly: m.readOnly === true,
    propagation,
    volume,
  };
}
