import { CoreV1Api, KubeConfig, makeInformer, type V1Node } from '@kubernetes/client-node';
import type { NodeInformer } from './node-watcher.js';

/** Loads the kubeconfig from a file, or the in-cluster service account when no path is given. */
export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromCluster();
  return kc;
}

/** A client-node informer over all Nodes. */
export function createNodeInformer(kc: KubeConfig): NodeInformer {
  const api = kc.makeApiClient(CoreV1Api);
  const informer = makeInformer<V1Node>(kc, '/api/v1/nodes', () => api.listNode());
  return informer as unknown as NodeInformer;
}
