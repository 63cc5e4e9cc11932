import type { Informer, KubernetesObject, ObjectCache } from '@kubernetes/client-node';
import { backoffDelay, sleep } from '../../common/backoff.js';
import type { Logger } from '../../common/log.js';
import { apiErrorSummary } from './api-errors.js';

export type CachedInformer<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

export type InformerEvent = 'add' | 'update' | 'delete';

/** What the informer loop reports to its owner. */
export interface InformerSink<T extends KubernetesObject> {
  onEvent(kind: InformerEvent, obj: T): void;
  /** After each successful list: the cache holds every object. */
  onSynced(cache: ObjectCache<T>): void;
  /** The informer stopped on an error; a new one starts after a backoff. */
  onStopped(err: unknown): void;
}

export interface RestartOptions {
  readonly log: Logger;
  readonly baseMs: number;
  readonly capMs: number;
}

/**
 * Runs informers one after the other until `signal` aborts. client-node informers
 * re-list by themselves only on 410 Gone; on any other error they emit `error` and
 * stop, so a fresh informer is started after a capped, jittered backoff (reset after
 * each successful sync).
 */
export async function runRestartingInformer<T extends KubernetesObject>(
  makeInformer: () => CachedInformer<T>,
  sink: InformerSink<T>,
  signal: AbortSignal,
  opts: RestartOptions,
): Promise<void> {
  for (let attempt = 0; !signal.aborted; ) {
    const informer = makeInformer();
    let failed = false;
    let reportFailure: (err: unknown) => void = () => undefined;
    const failure = new Promise<unknown>((resolve) => {
      reportFailure = resolve;
    });
    let onAbort: () => void = () => undefined;
    const aborted = new Promise<void>((resolve) => {
      onAbort = resolve;
    });
    signal.addEventListener('abort', onAbort, { once: true });
    informer.on('add', (obj) => sink.onEvent('add', obj));
    informer.on('update', (obj) => sink.onEvent('update', obj));
    informer.on('delete', (obj) => sink.onEvent('delete', obj));
    informer.on('error', (err: unknown) => {
      failed = true;
      reportFailure(err);
    });
    try {
      await informer.start();
    } catch (err: unknown) {
      failed = true;
      reportFailure(err);
    }
    if (!failed && !signal.aborted) {
      attempt = 0;
      sink.onSynced(informer);
    }
    const err = await Promise.race([failure, aborted]);
    signal.removeEventListener('abort', onAbort);
    await informer.stop();
    if (signal.aborted) return;
    sink.onStopped(err);
    const delayMs = backoffDelay(attempt++, opts.baseMs, opts.capMs);
    opts.log.warn({ op: 'informer', err: apiErrorSummary(err), delayMs }, 'informer stopped; restarting');
    await sleep(delayMs, signal).catch(() => undefined);
  }
}
