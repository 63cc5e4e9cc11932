import {
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  type V1Node,
} from '@kubernetes/client-node';
import { ConfigError } from '../../agent/src/config/config-error.js';
import { isNotFound } from './api-errors.js';
import type { SecretApi } from './gossip-key.js';
import type { LeaseApi } from './leader.js';
import type { NodeApi } from './node-cidr-controller.js';
import type { CachedInformer } from './restarting-informer.js';

export const LEASE_NAME = 'weft-controller';
export const CONFIG_MAP_NAME = 'weft-config';
export const NET_CONF_KEY = 'net-conf.json';

/**
 * KUBECONFIG when given, else the pod's service account (in-cluster). Outside a pod
 * without KUBECONFIG this is a ConfigError naming both, not a URL parse failure.
 */
export function loadControllerKubeConfig(
  path: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): KubeConfig {
  const kc = new KubeConfig();
  if (path !== undefined) kc.loadFromFile(path);
  else if (!env.KUBERNETES_SERVICE_HOST || !env.KUBERNETES_SERVICE_PORT) {
    throw new ConfigError(
      'KUBECONFIG',
      undefined,
      'not set, and not running in a pod (KUBERNETES_SERVICE_HOST/PORT unset): set KUBECONFIG',
    );
  } else kc.loadFromCluster();
  return kc;
}

/** The narrow API seams of the controller, backed by client-node. */
export interface ControllerApis {
  readonly nodes: NodeApi;
  readonly leases: LeaseApi;
  readonly secrets: SecretApi;
  readonly makeNodeInformer: () => CachedInformer<V1Node>;
  /** The net-conf.json key of ConfigMap weft-config (when WEFT_NET_CONF is not set). */
  readNetConf(): Promise<string>;
}

export function createControllerApis(kc: KubeConfig, namespace: string): ControllerApis {
  const core = kc.makeApiClient(CoreV1Api);
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  return {
    nodes: {
      read: (name) => orUndefined(core.readNode({ name })),
      patchPodCidrs: (name, resourceVersion, podCIDRs) =>
        core.patchNode(
          {
            name,
            // resourceVersion makes the patch conditional: 409 if the Node changed since it was read
            body: { metadata: { resourceVersion }, spec: { podCIDR: podCIDRs[0], podCIDRs } },
          },
          mergePatch,
        ),
    },
    leases: {
      read: () => orUndefined(coordination.readNamespacedLease({ name: LEASE_NAME, namespace })),
      create: (body) => coordination.createNamespacedLease({ namespace, body }),
      replace: (body) => coordination.replaceNamespacedLease({ name: LEASE_NAME, namespace, body }),
    },
    secrets: {
      read: (name) => orUndefined(core.readNamespacedSecret({ name, namespace })),
      create: (body) => core.createNamespacedSecret({ namespace, body }),
    },
    makeNodeInformer: () => makeInformer<V1Node>(kc, '/api/v1/nodes', () => core.listNode()),
    readNetConf: async () => {
      const cm = await core.readNamespacedConfigMap({ name: CONFIG_MAP_NAME, namespace });
      const text = cm.data?.[NET_CONF_KEY];
      if (text === undefined)
        throw new Error(`ConfigMap ${namespace}/${CONFIG_MAP_NAME} has no ${NET_CONF_KEY}`);
      return text;
    },
  };
}

async function orUndefined<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (err: unknown) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
