import { backoffDelay, sleep } from '../../../common/backoff.js';
import { WeftError } from '../../../common/errors.js';
import type { Logger } from '../../../common/log.js';
import { isGone, type KubeClient } from './api-client.js';
import { readWatchEvents, type WatchEvent } from './watch-stream.js';

/** One page of a list. */
export interface ListPage<T> {
  readonly items: readonly T[];
  readonly resourceVersion: string;
  /** Set when more pages follow. */
  readonly continueToken: string | undefined;
}

/** List and watch of one resource; the real one is KubeResourceApi, tests inject fakes. */
export interface ListWatchApi<T> {
  list(opts: { limit: number; continueToken?: string; signal: AbortSignal }): Promise<ListPage<T>>;
  /** Events after `resourceVersion`, with bookmarks; ends when the server closes the watch. */
  watch(opts: {
    resourceVersion: string;
    timeoutSeconds: number;
    signal: AbortSignal;
  }): AsyncIterable<WatchEvent<T>>;
}

export interface ListSink<T> {
  add(object: T): void;
  done(resourceVersion: string, attempt: number): void;
}

/** An object as the API sends it, for its resourceVersion. */
interface Versioned {
  readonly metadata?: { readonly resourceVersion?: string };
}

export interface ListWatchOptions<T> {
  /** The resource, for logs ("node", "pod", …). */
  readonly kind: string;
  readonly api: ListWatchApi<T>;
  /** A list starts: each object is passed to `add` as its page arrives, `done` once all pages did. */
  readonly startList: () => ListSink<T>;
  readonly onEvent: (type: 'ADDED' | 'MODIFIED' | 'DELETED', object: T) => void;
  readonly log: Logger;
  readonly backoff?: { readonly baseMs: number; readonly capMs: number };
  /** Objects per list page (default 500). */
  readonly pageSize?: number;
  /** Server-side watch timeout, randomised ×[1, 2) per watch (default 300 s). */
  readonly watchTimeoutSeconds?: number;
  readonly random?: () => number;
}

/** Consecutive 410s relisted at once before the loop backs off like for any other error. */
const MAX_QUICK_RELISTS = 3;

/**
 * List then watch, for ever: a paginated list, then a watch from the list's
 * resourceVersion with bookmarks. A watch the server closes is resumed from the
 * last resourceVersion seen; 410 Gone relists at once; any other error relists
 * after a capped, jittered backoff that restarts from the base after a list that
 * held. A watch closed at once without any event counts as an error (no hot loop).
 */
export async function runListWatch<T extends Versioned>(opts: ListWatchOptions<T>, signal: AbortSignal) {
  const { log, kind } = opts;
  const { baseMs, capMs } = opts.backoff ?? { baseMs: 1000, capMs: 30_000 };
  const random = opts.random ?? Math.random;
  let attempt = 0;
  let quickRelists = 0;
  while (!signal.aborted) {
    const roundStart = Date.now();
    try {
      let rv = await listAll(opts, signal, attempt);
      attempt = 0;
      for (;;) rv = await watchOnce(opts, rv, signal, random);
    } catch (err: unknown) {
      if (signal.aborted) break;
      if (Date.now() - roundStart > capMs) attempt = 0;
      if (isGone(err) && quickRelists++ < MAX_QUICK_RELISTS) {
        log.info({ op: 'watch', kind, err }, 'watch expired; relisting');
        continue;
      }
      quickRelists = 0;
      const delayMs = backoffDelay(attempt++, baseMs, capMs, random);
      log.warn({ err, op: 'watch', kind, attempt, delayMs }, 'watch failed; restarting');
      await sleep(delayMs, signal).catch(() => undefined);
    }
  }
}

async function listAll<T>(opts: ListWatchOptions<T>, signal: AbortSignal, attempt: number): Promise<string> {
  const sink = opts.startList();
  let continueToken: string | undefined;
  let resourceVersion = '';
  do {
    const page = await opts.api.list({
      limit: opts.pageSize ?? 500,
      signal,
      ...(continueToken ? { continueToken } : {}),
    });
    for (const item of page.items) sink.add(item);
    continueToken = page.continueToken;
    resourceVersion = page.resourceVersion;
  } while (continueToken);
  sink.done(resourceVersion, attempt);
  return resourceVersion;
}

async function watchOnce<T extends Versioned>(
  opts: ListWatchOptions<T>,
  from: string,
  signal: AbortSignal,
  random: () => number,
): Promise<string> {
  const timeoutSeconds = Math.round((opts.watchTimeoutSeconds ?? 300) * (1 + random()));
  const started = Date.now();
  let events = 0;
  let rv = from;
  for await (const ev of opts.api.watch({ resourceVersion: rv, timeoutSeconds, signal })) {
    events++;
    if (ev.type === 'BOOKMARK') {
      rv = ev.resourceVersion;
      continue;
    }
    rv = ev.object.metadata?.resourceVersion ?? rv;
    opts.onEvent(ev.type, ev.object);
  }
  if (signal.aborted) throw signal.reason;
  if (events === 0 && Date.now() - started < 1000) {
    throw new WeftError('EWATCHCLOSED', `the API server closed the ${opts.kind} watch at once`);
  }
  return rv;
}

/** Idle margin after the server-side watch timeout before the client gives up on a silent stream. */
const WATCH_IDLE_MARGIN_MS = 30_000;

/** List and watch of one collection path (/api/v1/pods, /apis/networking.k8s.io/v1/networkpolicies, …). */
export class KubeResourceApi<T> implements ListWatchApi<T> {
  constructor(
    private readonly client: KubeClient,
    private readonly path: string,
  ) {}

  async list(opts: { limit: number; continueToken?: string; signal: AbortSignal }): Promise<ListPage<T>> {
    const q = new URLSearchParams({ limit: String(opts.limit) });
    if (opts.continueToken) q.set('continue', opts.continueToken);
    const list = await this.client.requestJson<{
      items?: T[];
      metadata?: { resourceVersion?: string; continue?: string };
    }>({ path: `${this.path}?${q}`, signal: opts.signal });
    return {
      items: list.items ?? [],
      resourceVersion: list.metadata?.resourceVersion ?? '',
      continueToken: list.metadata?.continue || undefined,
    };
  }

  async *watch(opts: {
    resourceVersion: string;
    timeoutSeconds: number;
    signal: AbortSignal;
  }): AsyncIterable<WatchEvent<T>> {
    const q = new URLSearchParams({
      watch: 'true',
      allowWatchBookmarks: 'true',
      resourceVersion: opts.resourceVersion,
      timeoutSeconds: String(opts.timeoutSeconds),
    });
    const res = await this.client.openStream({
      path: `${this.path}?${q}`,
      signal: opts.signal,
      timeoutMs: opts.timeoutSeconds * 1000 + WATCH_IDLE_MARGIN_MS,
    });
    try {
      yield* readWatchEvents<T>(res);
    } finally {
      res.destroy();
    }
  }
}
