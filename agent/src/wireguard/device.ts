import { type CommandRunner, Netlink } from '../datapath/netlink.js';
import type { WgImplementation } from './detect.js';
import { parseWgDump } from './dump.js';
import { WireguardError } from './errors.js';
import type { WireguardKeyPair } from './keys.js';
import { planWireguard, type WgPlanOp, wgSetArgs } from './plan.js';
import type { DesiredWireguard, ObservedWireguard } from './state.js';
import { UserspaceWireguard } from './userspace.js';
import { WgTool } from './wg-tool.js';

export interface WireguardDeviceOptions {
  readonly device: string;
  /** Kernel or userspace (detectWireguard); 'none' cannot make a device. */
  readonly implementation: WgImplementation;
  readonly netns?: string | undefined;
  /** See WgToolOptions.runDir. */
  readonly runDir?: string | undefined;
  readonly netlink?: Netlink;
  /** Runs `wg` (tests record it). */
  readonly run?: CommandRunner;
  readonly onUserspaceExit?: (code: number | null, signal: string | null, stderr: string) => void;
}

/**
 * `weft.wg` through the standard tools: `ip` (through Netlink) for the link, `wg` for keys and
 * peers, wireguard-go for the userspace device. observe → planWireguard → apply.
 */
export class WireguardDevice {
  readonly device: string;
  readonly implementation: WgImplementation;
  readonly tool: WgTool;
  private readonly netlink: Netlink;
  private readonly ownsNetlink: boolean;
  private readonly userspace: UserspaceWireguard | undefined;

  constructor(opts: WireguardDeviceOptions) {
    this.device = opts.device;
    this.implementation = opts.implementation;
    this.tool = new WgTool({
      netns: opts.netns,
      runDir: opts.runDir,
      ...(opts.run ? { run: opts.run } : {}),
    });
    this.ownsNetlink = opts.netlink === undefined;
    this.netlink =
      opts.netlink ??
      new Netlink({ ...(opts.netns === undefined ? {} : { netns: opts.netns }), batchSessions: false });
    const impl = opts.implementation;
    if (impl.kind === 'userspace') {
      this.userspace = new UserspaceWireguard({
        binary: impl.binary,
        device: opts.device,
        tool: this.tool,
        ...(opts.onUserspaceExit ? { onExit: opts.onUserspaceExit } : {}),
      });
    }
  }

  /** wireguard-go's pid while it runs (userspace only). */
  get userspacePid(): number | undefined {
    return this.userspace?.pid;
  }

  async observe(): Promise<ObservedWireguard> {
    const [links, addrs] = await Promise.all([this.netlink.listLinks(), this.netlink.listAddrs()]);
    const link = links.find((l) => l.name === this.device);
    if (link === undefined) return { link: undefined, config: undefined };
    const config = parseWgDump(await this.tool.wg(['show', this.device, 'dump']));
    const addresses = [...(addrs.find((a) => a.name === this.device)?.cidrs ?? [])].sort();
    return { link: { name: link.name, mtu: link.mtu, up: link.up, addresses }, config };
  }

  /** Runs a plan: the device, then link settings in one `ip -batch`, then one `wg set` (key on stdin). */
  async apply(ops: readonly WgPlanOp[], key: WireguardKeyPair): Promise<void> {
    if (ops.some((o) => o.op === 'device-add')) await this.create();
    const lines = ops.flatMap((o) => {
      if (o.op === 'link-mtu') return [`link set dev ${o.name} mtu ${o.mtu}`];
      if (o.op === 'link-up') return [`link set dev ${o.name} up`];
      if (o.op === 'addr-add') return [`addr add ${o.cidr} dev ${o.name}`];
      if (o.op === 'addr-del') return [`addr del ${o.cidr} dev ${o.name}`];
      return [];
    });
    const failures = await this.netlink.runIpBatch(lines);
    if (failures.length > 0) {
      throw new WireguardError('EWGAPPLY', `ip: ${failures.map((f) => f.error.message).join('; ')}`);
    }
    const args = wgSetArgs(this.device, ops);
    if (args === undefined) return;
    const withKey = ops.some((o) => o.op === 'private-key');
    await this.tool.wg(args, withKey ? `${key.privateKeyText()}\n` : undefined);
  }

  /** Plan against the device as it is and apply; returns the plan (empty = nothing to do). */
  async sync(desired: DesiredWireguard, key: WireguardKeyPair): Promise<WgPlanOp[]> {
    return (await this.syncObserved(desired, key)).ops;
  }

  /** sync, also returning the device as it is afterwards (observed again only when ops ran). */
  async syncObserved(
    desired: DesiredWireguard,
    key: WireguardKeyPair,
  ): Promise<{ ops: WgPlanOp[]; observed: ObservedWireguard }> {
    const before = await this.observe();
    const ops = planWireguard(desired, before);
    if (ops.length === 0) return { ops, observed: before };
    await this.apply(ops, key);
    return { ops, observed: await this.observe() };
  }

  private async create(): Promise<void> {
    const impl = this.implementation;
    if (impl.kind === 'kernel') {
      const failures = await this.netlink.runIpBatch([`link add dev ${this.device} type wireguard`]);
      const f = failures[0];
      if (f !== undefined && f.error.code !== 'EEXIST') {
        throw new WireguardError('EWGAPPLY', `ip link add ${this.device}: ${f.error.message}`, {
          cause: f.error,
        });
      }
    } else if (this.userspace !== undefined) {
      await this.userspace.start();
    } else {
      throw new WireguardError(
        'ENOIMPL',
        `no WireGuard implementation for ${this.device}: ${impl.kind === 'none' ? impl.reason : ''}`,
      );
    }
  }

  /** Removes the device (and ends wireguard-go); absent already counts as done. */
  async uninstall(): Promise<void> {
    await this.userspace?.stop();
    const failures = await this.netlink.runIpBatch([`link del dev ${this.device}`]);
    const f = failures[0];
    if (f !== undefined && f.error.code !== 'ENODEV') {
      throw new WireguardError('EWGAPPLY', `ip link del ${this.device}: ${f.error.message}`, {
        cause: f.error,
      });
    }
  }

  close(): void {
    if (this.ownsNetlink) this.netlink.close();
  }
}
