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
  /** Pod addresses with prefix length ("10.244.1.5/24"). */
  readonly addresses: readonly string[];
  /** Default gateway per family (the bridge's address). */
  readonly gateways: readonly string[];
}

/** What CHECK finds inside a pod's netns. */
export interface ObservedPodInterface {
  readonly exists: boolean;
  readonly up: boolean;
  readonly addresses: readonly string[];
  readonly defaultGateways: readonly string[];
}

/** The batch run inside the pod's netns: veth (host end sent to the node), address, up, routes, lo. */
export function planPodBatch(w: PodWiring, hostNetnsRef: string): string {
  const lines = [
    `link add ${w.ifname} address ${w.podMac} mtu ${w.mtu} type veth peer name ${w.hostVeth} address ${w.hostMac} mtu ${w.mtu} netns ${hostNetnsRef}`,
    ...w.addresses.map((a) => `addr add ${a} dev ${w.ifname}`),
    `link set ${w.ifname} up`,
    'link set lo up',
    ...w.gateways.map((gw) => `route add default via ${gw} dev ${w.ifname}`),
  ];
  return `${lines.join('\n')}\n`;
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
      await this.ip.pod(w.netns, ['-batch', '-'], planPodBatch(w, this.ip.hostNetnsRef));
    } catch (err) {
      // Line 1 creates the pair; when it is the one that failed there is nothing
      // to undo (and an existing link of that name is not ours to delete).
      if (!(err instanceof IpCommandError && /Command failed -:1\b/.test(err.stderr)))
        await this.deleteHostVeth(w.hostVeth).catch(() => {});
      throw err;
    }
    try {
      await this.ip.hostBatch(planHostBatch(w));
    } catch (err) {
      await this.deleteHostVeth(w.hostVeth).catch(() => {});
      throw err;
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

  /** Reads the interface's addresses and the default routes inside the pod's netns. */
  async observePodInterface(netns: string, ifname: string): Promise<ObservedPodInterface> {
    const out = await this.ip.pod(netns, ['-j', '-batch', '-'], 'addr show\nroute show default\n');
    const [addrDoc, routeDoc] = out
      .split('\n')
      .filter((l) => l.trim().startsWith('['))
      .map((l) => JSON.parse(l) as unknown[]);
    type Addr = { ifname: string; flags?: string[]; addr_info?: Array<{ local: string; prefixlen: number }> };
    type Route = { dst: string; gateway?: string; dev?: string };
    const link = ((addrDoc ?? []) as Addr[]).find((l) => l.ifname === ifname);
    return {
      exists: link !== undefined,
      up: link?.flags?.includes('UP') ?? false,
      addresses: (link?.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`),
      defaultGateways: ((routeDoc ?? []) as Route[])
        .filter((r) => r.dev === ifname && r.gateway !== undefined)
        .map((r) => r.gateway as string),
    };
  }
}
