import { StringDecoder } from 'node:string_decoder';
import { WeftError } from '../../../common/errors.js';
import { KubeApiError } from './api-client.js';

/** One decoded watch event. ERROR events are turned into a thrown KubeApiError instead. */
export type WatchEvent<T> =
  | { readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'; readonly object: T }
  | { readonly type: 'BOOKMARK'; readonly resourceVersion: string };

/**
 * Splits a byte stream into lines: chunks may end mid-line or mid-character;
 * push() returns the lines that are complete, end() what is left.
 */
export class LineSplitter {
  readonly #decoder = new StringDecoder('utf8');
  #rest = '';

  push(chunk: Buffer | string): string[] {
    const text = this.#rest + (typeof chunk === 'string' ? chunk : this.#decoder.write(chunk));
    const lines = text.split('\n');
    this.#rest = lines.pop() ?? '';
    return lines.filter((l) => l.trim() !== '');
  }

  end(): string[] {
    const last = (this.#rest + this.#decoder.end()).trim();
    this.#rest = '';
    return last ? [last] : [];
  }
}

/** Parses one line of a watch stream; throws KubeApiError for an ERROR event (410 Gone among them). */
export function parseWatchLine<T>(line: string): WatchEvent<T> {
  let ev: { type?: unknown; object?: unknown };
  try {
    ev = JSON.parse(line) as typeof ev;
  } catch (err: unknown) {
    throw new WeftError('EWATCHDECODE', `watch event is not JSON: ${line.slice(0, 120)}`, { cause: err });
  }
  const obj = (typeof ev.object === 'object' && ev.object !== null ? ev.object : {}) as {
    metadata?: { resourceVersion?: unknown };
    code?: unknown;
    reason?: unknown;
    message?: unknown;
  };
  switch (ev.type) {
    case 'ADDED':
    case 'MODIFIED':
    case 'DELETED':
      return { type: ev.type, object: obj as T };
    case 'BOOKMARK': {
      const rv = obj.metadata?.resourceVersion;
      if (typeof rv !== 'string' || rv === '') {
        throw new WeftError('EWATCHDECODE', 'BOOKMARK event without metadata.resourceVersion');
      }
      return { type: 'BOOKMARK', resourceVersion: rv };
    }
    case 'ERROR':
      throw new KubeApiError(
        typeof obj.code === 'number' ? obj.code : 500,
        String(obj.reason ?? 'Unknown'),
        String(obj.message ?? 'watch ERROR event'),
      );
    default:
      throw new WeftError('EWATCHDECODE', `unknown watch event type ${JSON.stringify(ev.type)}`);
  }
}

/** Decodes a watch response body into events as the bytes arrive. */
export async function* readWatchEvents<T>(
  body: AsyncIterable<Buffer | string>,
): AsyncGenerator<WatchEvent<T>> {
  const lines = new LineSplitter();
  for await (const chunk of body) {
    for (const line of lines.push(chunk)) yield parseWatchLine<T>(line);
  }
  for (const line of lines.end()) yield parseWatchLine<T>(line);
}
