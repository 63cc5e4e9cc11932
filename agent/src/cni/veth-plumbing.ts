import { ipFamilyOf } from '../../../common/ip.js';
import type { IpRunner } from './ip-runner.js';
import { IpCommandError } from './ip-runner.js';
import { HOST_VETH_PATTERN } from './names.js';

/** Everything needed to wire one pod interface to the bridge. */
export interface PodWiring {
  readonly netns: string;
  readonly ifname: string;
  readonly podMac: string;
  readonly hostVeth: string;
  readonly hostMac: string;
  readonly bridge: string;
  readonly mtu: number;
  /** Pod addresses with prefix length ("10.244.1.5/24", "fd00:10:244:1::5/64"), IPv4 first. */
  readonly addresses: readonly string[];
  /** Default gateway per family (the bridge's address), in the order of `addresses`. */
  readonly gateways: readonly string[];
}

/** What CHECK finds inside a pod's netns. */
export interface ObservedPodInterface {
  readonly exists: boolean;
  readonly up: boolean;
  /** Addresses of global scope, with prefix length (link-local ones left out). */
  readonly addresses: readonly string[];
  /** Gateways of the interface's default routes in the main table, both families. */
  readonly defaultGateways: readonly string[];
}

/**
 * The batch run inside the pod's netns: veth (host end sent to the node),
 * addresses, up, lo, default routes. IPv6 addresses are added `nodad`: IPAM
 * makes them unique, and duplicate address detection would hold the address
 * back (tentative) for a second or more after ADD returned.
 */
export function planPodBatch(w: PodWiring, hostNetnsRef: string): string[] {
  return [
    `link add ${w.ifname} address ${w.podMac} mtu ${w.mtu} type veth peer name ${w.hostVeth} address ${w.hostMac} mtu ${w.mtu} netns ${hostNetnsRef}`,
    ...w.addresses.map((a) => `addr add ${a} dev ${w.ifname}${ipFamilyOf(a) === 6 ? ' nodad' : ''}`),
    `link set ${w.ifname} up`,
    'link set lo up',
    ...w.gateways.map((gw) => `route add default via ${gw} dev ${w.ifname}`),
  ];
}

/** The failing line of an `ip -batch` run (0-based into what it was given), if ip named one. */
function failedLine(err: unknown): number | undefined {
  const m = err instanceof IpCommandError ? /Command failed -:(\d+)\b/.exec(err.stderr) : null;
  return m ? Number(m[1]) - 1 : undefined;
}

/** ip's answer when an IPv6 address goes onto an interface with disable_ipv6=1 (older kernels: EACCES). */
const IPV6_DISABLED = /IPv6 is disabled on this device|Permission denied/;

/** A failed pod batch; `line` is the failing line (0-based into the full plan), when known. */
class PodBatchError extends Error {
  constructor(
    readonly line: number | undefined,
    override readonly cause: unknown,
  ) {
    super('pod batch failed', { cause });
  }
}

/** The batch run in the node's netns: host end on the bridge, up, hairpin on. */
export function planHostBatch(w: PodWiring): string[] {
  return [
    `link set ${w.hostVeth} master ${w.bridge} up`,
    `link set dev ${w.hostVeth} type bridge_slave hairpin on`,
  ];
}

/** Kernel side of ADD/DEL/CHECK/GC: two `ip -batch` runs per ADD, one `ip link del` per DEL. */
export class VethPlumbing {
  constructor(private readonly ip: IpRunner) {}

  /** Wires the pod; on failure removes what it created (the veth pair) and rethrows. */
  async applyWiring(w: PodWiring): Promise<void> {
    try {
      await this.runPodBatch(w, planPodBatch(w, this.ip.hostNetnsRef));
    } catch (err) {
      // Line 1 creates the pair; when it is the one that failed there is nothing
      // to undo (and an existing link of that name is not ours to delete).
      if (!(err instanceof PodBatchError && err.line === 0))
        await this.deleteHostVeth(w.hostVeth).catch(() => {});
      throw err instanceof PodBatchError ? err.cause : err;
    }
    try {
      await this.ip.hostBatch(planHostBatch(w));
    } catch (err) {
      await this.deleteHostVeth(w.hostVeth).catch(() => {});
      throw err;
    }
  }

  /**
   * Runs the pod batch in one `ip -batch`. A pod netns whose new interfaces start
   * with IPv6 disabled (net.ipv6.conf.default.disable_ipv6=1, as some runtimes
   * set) refuses the IPv6 address: then IPv6 is enabled on the pod interface
   * alone, inside the pod's netns, and the batch goes on from that address.
   */
  private async runPodBatch(w: PodWiring, lines: readonly string[]): Promise<void> {
    let from = 0;
    for (;;) {
      try {
        await this.ip.pod(w.netns, ['-batch', '-'], `${lines.slice(from).join('\n')}\n`);
        return;
      } catch (err) {
        const rel = failedLine(err);
        const line = rel === undefined ? undefined : from + rel;
        const text = line === undefined ? '' : (lines[line] ?? '');
        const ipv6Refused =
          from === 0 &&
          err instanceof IpCommandError &&
          IPV6_DISABLED.test(err.stderr) &&
          text.startsWith('addr add ') &&
          ipFamilyOf(text.split(' ')[2] ?? '') === 6;
        if (!ipv6Refused || line === undefined) throw new PodBatchError(line, err);
        await this.ip
          .podSysctl(w.netns, `net/ipv6/conf/${w.ifname}/disable_ipv6`, '0')
          .catch((e: unknown) => {
            throw new PodBatchError(line, e);
          });
        from = line;
      }
    }
  }

  /** Deletes the host end (the kernel removes the pair); false when it was already gone. */
  async deleteHostVeth(name: string): Promise<boolean> {
    try {
      await this.ip.hostBatch([`link del ${name}`]);
      return true;
    } catch (err) {
      if (err instanceof IpCommandError && err.code === 'ENODEV') return false;
      throw err;
    }
  }

  /** The bridge the host end is attached to, or undefined when the link does not exist. */
  async observeHostVeth(name: string): Promise<{ master: string | undefined; up: boolean } | undefined> {
    try {
      const [link] = JSON.parse(await this.ip.host(['-j', 'link', 'show', 'dev', name])) as Array<{
        master?: string;
        flags?: string[];
      }>;
      if (!link) return undefined;
      return { master: link.master, up: link.flags?.includes('UP') ?? false };
    } catch (err) {
      if (err instanceof IpCommandError && err.code === 'ENODEV') return undefined;
      throw err;
    }
  }

  /** Names of all host-side veths Weft created (by name pattern). */
  async listHostVeths(): Promise<string[]> {
    const links = JSON.parse(await this.ip.host(['-j', 'link', 'show', 'type', 'veth'])) as Array<{
      ifname: string;
    }>;
    return links.map((l) => l.ifname).filter((n) => HOST_VETH_PATTERN.test(n));
  }

  /**
   * Reads the interface's addresses and the default routes inside the pod's netns
   * (`table all`: without it ip lists IPv4 routes only; routes of other tables are
   * left out).
   */
  async observePodInterface(netns: string, ifname: string): Promise<ObservedPodInterface> {
    const out = await this.ip.pod(netns, ['-j', '-batch', '-'], 'addr show\nroute show default table all\n');
    const [addrDoc, routeDoc] = out
      .split('\n')
      .filter((l) => l.trim().startsWith('['))
      .map((l) => JSON.parse(l) as unknown[]);
    type Addr = {
      ifname: string;
      flags?: string[];
      addr_info?: Array<{ local: string; prefixlen: number; scope?: string }>;
    };
    type Route = { dst: string; gateway?: string; dev?: string; table?: string };
    const link = ((addrDoc ?? []) as Addr[]).find((l) => l.ifname === ifname);
    return {
      exists: link !== undefined,
      up: link?.flags?.includes('UP') ?? false,
      addresses: (link?.addr_info ?? [])
        .filter((a) => a.scope !== 'link')
        .map((a) => `${a.local}/${a.prefixlen}`),
      defaultGateways: ((routeDoc ?? []) as Route[])
        .filter((r) => r.dev === ifname && r.gateway !== undefined && (r.table ?? 'main') === 'main')
        .map((r) => r.gateway as string),
    };
  }
}
