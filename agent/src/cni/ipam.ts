import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { errorMessage } from '../../../common/errors.js';
import { formatIp, parseIp } from '../../../common/ip.js';
import { writeFileAtomic } from './atomic-file.js';
import { CniCode, CniError } from './errors.js';
import { chooseAddress, type IpamRange, rangeCapacity, rangeContains } from './ipam-range.js';
import {
  type Allocation,
  attachmentKey,
  computeUsedAddresses,
  emptyIpamState,
  type IpamState,
  parseIpamState,
  serializeIpamState,
} from './ipam-state.js';
import type { Attachment } from './netconf.js';

export function ipamStatePath(stateDir: string, network: string): string {
  return join(stateDir, 'ipam', `${network}.json`);
}

/**
 * Address management for one network. Every change is made to the in-memory
 * state synchronously (so concurrent requests cannot race: the event loop is the
 * mutex) and is on disk (atomic write) before the call returns. Writes are
 * serialised and coalesced: changes made while a write is in flight go out
 * together in the next one (group commit).
 *
 * podCIDR change: ranges are passed per call, never stored. Allocations outside
 * the current ranges stay recorded (so DEL and GC release them and no address is
 * handed out twice should the old range come back), do not count in usage(), and
 * an ADD that finds one for its own attachment replaces it with a new address.
 *
 * Dual-stack: one range per family, one address from each per attachment, in
 * the same state file; DEL and GC release an attachment's addresses together.
 */
export class Ipam {
  private generation = 0;
  private persisted = 0;
  private writing: Promise<void> | undefined;

  private constructor(
    readonly network: string,
    private readonly path: string,
    private readonly state: IpamState,
  ) {}

  /** Loads `<stateDir>/ipam/<network>.json` (missing = empty). Throws CniError 103 when unreadable. */
  static async open(stateDir: string, network: string): Promise<Ipam> {
    const path = ipamStatePath(stateDir, network);
    await mkdir(dirname(path), { recursive: true });
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw unreadable(path, err);
    }
    try {
      return new Ipam(network, path, text === undefined ? emptyIpamState() : parseIpamState(text));
    } catch (err) {
      throw unreadable(path, err);
    }
  }

  lookup(a: Attachment): Allocation | undefined {
    return this.state.allocations.get(attachmentKey(a));
  }

  list(): Allocation[] {
    return [...this.state.allocations.values()];
  }

  /** Gives the attachment one address from each range; 100 when a range is full. */
  async allocate(a: Attachment, ranges: readonly IpamRange[]): Promise<Allocation> {
    const picked = ranges.map((r) => {
      const ip = chooseAddress(r, computeUsedAddresses(this.state, r.family), this.state.cursors.get(r.cidr));
      if (ip === undefined)
        throw new CniError(
          CniCode.poolExhausted,
          'no free pod address',
          `all ${rangeCapacity(r)} addresses of ${r.cidr} are allocated`,
        );
      return { r, ip };
    });
    for (const { r, ip } of picked) this.state.cursors.set(r.cidr, ip);
    const allocation: Allocation = { ...a, ips: picked.map(({ ip }) => formatIp(ip)) };
    const key = attachmentKey(a);
    this.state.allocations.set(key, allocation);
    try {
      await this.persist();
    } catch (err) {
      if (this.state.allocations.get(key) === allocation) this.state.allocations.delete(key);
      throw err;
    }
    return allocation;
  }

  /** Releases the attachment's addresses; undefined when it held none. */
  async release(a: Attachment): Promise<Allocation | undefined> {
    const key = attachmentKey(a);
    const old = this.state.allocations.get(key);
    if (!old) return undefined;
    this.state.allocations.delete(key);
    try {
      await this.persist();
    } catch (err) {
      if (!this.state.allocations.has(key)) this.state.allocations.set(key, old);
      throw err;
    }
    return old;
  }

  /** Releases every allocation whose key is in neither `keep` nor `busy`. */
  async releaseExcept(keep: ReadonlySet<string>, busy: ReadonlySet<string>): Promise<Allocation[]> {
    const released: Allocation[] = [];
    for (const [key, a] of this.state.allocations) {
      if (keep.has(key) || busy.has(key)) continue;
      this.state.allocations.delete(key);
      released.push(a);
    }
    if (released.length > 0) await this.persist();
    return released;
  }

  /** Addresses of the range in use, and the range's size. */
  private rangeUsage(r: IpamRange): { allocated: number; capacity: bigint } {
    let allocated = 0;
    for (const value of computeUsedAddresses(this.state, r.family))
      if (rangeContains(r, { family: r.family, value })) allocated++;
    return { allocated, capacity: rangeCapacity(r) };
  }

  /**
   * Pod addresses in use and available over the current ranges. With one range
   * per family and one address from each per pod, that is the range with the
   * fewest free addresses (the IPv4 one, beside a /64): what limits ADD.
   */
  usage(ranges: readonly IpamRange[]): { allocated: number; capacity: number } {
    let tightest: { allocated: number; capacity: bigint } | undefined;
    for (const r of ranges) {
      const u = this.rangeUsage(r);
      if (!tightest || u.capacity - BigInt(u.allocated) < tightest.capacity - BigInt(tightest.allocated))
        tightest = u;
    }
    return tightest
      ? { allocated: tightest.allocated, capacity: Number(tightest.capacity) }
      : { allocated: 0, capacity: 0 };
  }

  /** True when the allocation holds exactly one address in each range and none elsewhere. */
  static fits(a: Allocation, ranges: readonly IpamRange[]): boolean {
    const ips = a.ips.map((ip) => parseIp(ip));
    return (
      ips.length === ranges.length &&
      ranges.every((r) => ips.filter((ip) => rangeContains(r, ip)).length === 1)
    );
  }

  private async persist(): Promise<void> {
    const target = ++this.generation;
    while (this.persisted < target) {
      if (!this.writing) {
        const gen = this.generation;
        const text = serializeIpamState(this.network, this.state);
        this.writing = writeFileAtomic(this.path, text, 0o600)
          .then(() => {
            this.persisted = Math.max(this.persisted, gen);
          })
          .catch((err: unknown) => {
            throw new CniError(
              CniCode.stateNotPersisted,
              'cannot persist IPAM state',
              `${this.path}: ${errorMessage(err)}`,
              { cause: err },
            );
          })
          .finally(() => {
            this.writing = undefined;
          });
      }
      await this.writing;
    }
  }
}

function unreadable(path: string, err: unknown): CniError {
  return new CniError(CniCode.stateNotPersisted, 'cannot read IPAM state', `${path}: ${errorMessage(err)}`, {
    cause: err,
  });
}
