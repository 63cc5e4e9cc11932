import { attachmentKey } from './ipam-state.js';
import type { Attachment } from './netconf.js';

/**
 * Serialises work per attachment (ADD/DEL/CHECK of one container+ifname never
 * overlap) and tells GC which attachments are in flight.
 */
export class AttachmentLock {
  private readonly tails = new Map<string, { attachment: Attachment; tail: Promise<unknown> }>();

  async run<T>(a: Attachment, fn: () => Promise<T>): Promise<T> {
    const key = attachmentKey(a);
    const prev = this.tails.get(key)?.tail ?? Promise.resolve();
    const result = prev.catch(() => {}).then(fn);
    const tail = result.catch(() => {});
    this.tails.set(key, { attachment: a, tail });
    try {
      return await result;
    } finally {
      if (this.tails.get(key)?.tail === tail) this.tails.delete(key);
    }
  }

  /** Attachments with an ADD/DEL/CHECK running or queued. */
  busy(): Attachment[] {
    return [...this.tails.values()].map((t) => t.attachment);
  }
}
