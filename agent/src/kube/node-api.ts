import type { KubeClient } from './api-client.js';
import type { KubeNode } from './node-convert.js';
import { readWatchEvents, type WatchEvent } from './watch-stream.js';

/** One page of a Node list. */
export interface NodePage {
  readonly items: readonly KubeNode[];
  readonly resourceVersion: string;
  /** Set when more pages follow. */
  readonly continueToken: string | undefined;
}

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

/** Idle margin after the server-side watch timeout before the client gives up on a silent stream. */
const WATCH_IDLE_MARGIN_MS = 30_000;

export class KubeNodeApi implements NodeApi {
  readonly #client: KubeClient;

  constructor(client: KubeClient) {
    this.#client = client;
  }

  async listNodes(opts: { limit: number; continueToken?: string; signal: AbortSignal }): Promise<NodePage> {
    const q = new URLSearchParams({ limit: String(opts.limit) });
    if (opts.continueToken) q.set('continue', opts.continueToken);
    const list = await this.#client.requestJson<{
      items?: KubeNode[];
      metadata?: { resourceVersion?: string; continue?: string };
    }>({ path: `/api/v1/nodes?${q}`, signal: opts.signal });
    return {
      items: list.items ?? [],
      resourceVersion: list.metadata?.resourceVersion ?? '',
      continueToken: list.metadata?.continue || undefined,
    };
  }

  async *watchNodes(opts: {
    resourceVersion: string;
    timeoutSeconds: number;
    signal: AbortSignal;
  }): AsyncIterable<WatchEvent<KubeNode>> {
    const q = new URLSearchParams({
      watch: 'true',
      allowWatchBookmarks: 'true',
      resourceVersion: opts.resourceVersion,
      timeoutSeconds: String(opts.timeoutSeconds),
    });
    const res = await this.#client.openStream({
      path: `/api/v1/nodes?${q}`,
      signal: opts.signal,
      timeoutMs: opts.timeoutSeconds * 1000 + WATCH_IDLE_MARGIN_MS,
    });
    try {
      yield* readWatchEvents<KubeNode>(res);
    } finally {
      res.destroy();
    }
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
