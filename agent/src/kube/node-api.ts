import type { KubeClient } from './api-client.js';
import { KubeResourceApi, type ListPage } from './list-watch.js';
import type { KubeNode } from './node-convert.js';
import type { WatchEvent } from './watch-stream.js';

/** One page of a Node list. */
export type NodePage = ListPage<KubeNode>;

/** The Node calls the agent makes; the real one is KubeNodeApi, tests inject fakes. */
export interface NodeApi {
  listNodes(opts: { limit: number; continueToken?: string; signal: AbortSignal }): Promise<NodePage>;
  /** Events after `resourceVersion`, with bookmarks; ends when the server closes the watch. */
  watchNodes(opts: {
    resourceVersion: string;
    timeoutSeconds: number;
    signal: AbortSignal;
  }): AsyncIterable<WatchEvent<KubeNode>>;
  /** Strategic-merge patch of nodes/<name>/status. */
  patchNodeStatus(name: string, patch: object, signal: AbortSignal): Promise<void>;
}

export class KubeNodeApi implements NodeApi {
  readonly #client: KubeClient;
  readonly #nodes: KubeResourceApi<KubeNode>;

  constructor(client: KubeClient) {
    this.#client = client;
    this.#nodes = new KubeResourceApi(client, '/api/v1/nodes');
  }

  listNodes(opts: { limit: number; continueToken?: string; signal: AbortSignal }): Promise<NodePage> {
    return this.#nodes.list(opts);
  }

  watchNodes(opts: {
    resourceVersion: string;
    timeoutSeconds: number;
    signal: AbortSignal;
  }): AsyncIterable<WatchEvent<KubeNode>> {
    return this.#nodes.watch(opts);
  }

  async patchNodeStatus(name: string, patch: object, signal: AbortSignal): Promise<void> {
    await this.#client.requestJson({
      method: 'PATCH',
      path: `/api/v1/nodes/${encodeURIComponent(name)}/status`,
      body: patch,
      contentType: 'application/strategic-merge-patch+json',
      signal,
    });
  }
}
