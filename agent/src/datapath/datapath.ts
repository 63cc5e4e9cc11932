import type { Registry } from 'prom-client';
import type { Logger } from '../../../common/log.js';
import { applyPlan, ipBatchLine } from './apply.js';
import { BRIDGE_NF_CALL, BRIDGE_NF_CALL6 } from './desired.js';
import { IncrementalDesired } from './desired-incremental.js';
import { DatapathApplyError, DatapathError } from './errors.js';
import { keepRouterAdvertisements, routerAdvertisementKeys } from './ipv6-sysctls.js';
import { DatapathMetrics, routeCountKey } from './metrics.js';
import type { Netlink } from './netlink.js';
import {
  NFT_FAMILY,
  NFT_TABLE,
  POLICY_DROP_EGRESS,
  POLICY_DROP_INGRESS,
  renderNftDelete,
  withPolicyContent,
} from './nft-ruleset.js';
import { observeDatapath, toRule } from './observe.js';
import { type PlanOp, planDatapath } from './plan.js';
import { planFromLastApplied } from './plan-trusted.js';
import type {
  DatapathState,
  DesiredDatapath,
  DesiredWireguardPeers,
  PolicyContent,
  UnderlayFacts,
} from './state.js';
import { REPLY_TABLE } from './tunnel-reply.js';
import type { DatapathConfig, PeerNode, PeerRoute, SelfNode, SyncOptions, SyncResult } from './types.js';
import { detectUnderlay } from './underlay.js';

/** CPU time this process used since `start` (user + system, ms): the work itself, without waiting for a core. */
function cpuMsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return Math.round((d.user + d.system) / 100) / 10;
}

/**
 * Weft's route protocol number (0x57, "W"). Unused in iproute2's rt_protos and the
 * kernel's RTPROT_* list; every route Weft installs carries it, and only routes that
 * carry it are ever deleted. `ip route show proto 87` lists them.
 */
export const WEFT_ROUTE_PROTOCOL = 87;

export interface DatapathOptions {
  readonly netlink: Netlink;
  readonly log: Logger;
  /** Registry for weft_routes, weft_datapath_changes_total, weft_datapath_apply_errors_total. */
  readonly registry: Registry;
  /** Route protocol number; default WEFT_ROUTE_PROTOCOL. */
  readonly protocol?: number;
  /** The WireGuard device (ADR 16); without it a config with encryption fails its syncs. */
  readonly wireguard?: WireguardHook;
}

/**
 * What the datapath asks of the WireGuard device: bring it to `desired` before the routes
 * through it are applied. `trusted` as SyncOptions.trustLastApplied: an event-driven pass, which
 * may skip reading the device when its part is what the last successful sync applied.
 */
export interface WireguardHook {
  sync(desired: DesiredWireguardPeers, trusted: boolean): Promise<void>;
}

/**
 * The node's pod network in the kernel: observe → plan → apply against desired().
 * Syncs are serialised; each one is idempotent.
 */
export class Datapath {
  readonly protocol: number;
  /** The plan of the last sync (empty when the kernel already matched). */
  lastPlan: readonly PlanOp[] | undefined;
  /** The desired state of the last sync, for the status API. */
  lastDesired: DesiredDatapath | undefined;
  private readonly netlink: Netlink;
  private readonly log: Logger;
  private readonly metrics: DatapathMetrics;
  private readonly wireguard: WireguardHook | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private loggedSkips = '';
  private loggedNoBrNetfilter = false;
  private checkedStaleWireguard = false;
  /** The compiled NetworkPolicy part; undefined until the policy engine has synced (then it is kept as is). */
  private policy: PolicyContent | undefined;
  /** desired() that patches its last result when few peers changed (a peer object is never mutated). */
  private readonly desired = new IncrementalDesired();
  /** What the last successful apply left in the kernel, and the facts it was computed from. */
  private lastApplied:
    | { readonly key: string; readonly state: DatapathState; readonly underlay: UnderlayFacts }
    | undefined;

  constructor(opts: DatapathOptions) {
    this.netlink = opts.netlink;
    this.log = opts.log.child({ component: 'datapath' });
    this.metrics = new DatapathMetrics(opts.registry);
    this.protocol = opts.protocol ?? WEFT_ROUTE_PROTOCOL;
    this.wireguard = opts.wireguard;
  }

  /** Brings the kernel to the desired state for `self` and `peers`. */
  sync(
    self: SelfNode,
    peers: readonly PeerNode[],
    config: DatapathConfig,
    opts: SyncOptions = {},
  ): Promise<SyncResult> {
    return this.serialised(() => this.syncOnce(self, peers, config, opts));
  }

  /**
   * Sets the NetworkPolicy part of table inet weft for the next syncs (the
   * reconcile loop must be triggered to apply it). Until the first call the
   * policy rules in the kernel are kept as they are (ADR 13).
   */
  setPolicy(content: PolicyContent): void {
    this.policy = content;
  }

  /** Packets the NetworkPolicy drop counters counted, per direction. */
  async readPolicyDrops(): Promise<Map<'ingress' | 'egress', number>> {
    const counters = await this.netlink.readNftCounters(NFT_FAMILY, NFT_TABLE);
    return new Map([
      ['ingress', counters.get(POLICY_DROP_INGRESS) ?? 0],
      ['egress', counters.get(POLICY_DROP_EGRESS) ?? 0],
    ]);
  }

  /** Whether this kernel's nftables can match SCTP ports (checked, never applied). */
  canMatchSctp(): Promise<boolean> {
    const probe = 'table inet weft_probe {\n  chain c {\n    meta l4proto sctp th dport 1 accept\n  }\n}\n';
    return this.netlink.checkNftScript(probe);
  }

  /**
   * Removes every device, route of both families and rule (by protocol), neighbour, FDB entry
   * and nft table Weft created. Sysctls stay (forwarding, accept_ra: others may rely on them).
   */
  uninstall(config: DatapathConfig): Promise<void> {
    return this.serialised(() => this.uninstallOnce(config));
  }

  private serialised<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async syncOnce(
    self: SelfNode,
    peers: readonly PeerNode[],
    config: DatapathConfig,
    opts: SyncOptions,
  ): Promise<SyncResult> {
    const started = performance.now();
    const cpuStart = process.cpuUsage();
    const ipv6 = self.underlayIP6 !== undefined && self.podCIDRs.some((c) => c.includes(':'));
    const key = JSON.stringify([self.underlayIP, config.bridgeName, config.vxlanName, ipv6]);
    const trusted = opts.trustLastApplied && this.lastApplied?.key === key ? this.lastApplied : undefined;
    this.lastApplied = undefined;
    const underlay =
      trusted?.underlay ?? (await detectUnderlay(this.netlink, self.underlayIP, this.protocol, ipv6));
    const t0 = performance.now();
    let desired = withPolicy(this.desired.compute(self, peers, config, underlay), config, this.policy);
    const t1 = performance.now();
    this.logSkips(desired);
    const observed =
      trusted?.state ??
      (await observeDatapath(this.netlink, {
        bridgeName: config.bridgeName,
        vxlanName: config.vxlanName,
        protocol: this.protocol,
        sysctlKeys: [...desired.sysctls.keys(), ...routerAdvertisementKeys(desired.sysctls)],
      }));
    const t2 = performance.now();
    desired = this.withoutMissingBrNetfilter(desired, observed);
    desired = { ...desired, sysctls: keepRouterAdvertisements(desired.sysctls, observed.sysctls) };
    const plan = trusted ? planFromLastApplied(desired, observed) : planDatapath(desired, observed);
    const t3 = performance.now();
    this.lastPlan = plan;
    this.lastDesired = desired;
    try {
      await this.syncWireguard(desired, config, trusted !== undefined);
      await applyPlan(this.netlink, plan, this.protocol);
      this.metrics.changes.inc(plan.length);
      // While the policy part is pending the kernel keeps rules desired() does not know:
      // the next sync reads the kernel again instead of trusting this state.
      this.lastApplied = desired.policyPending ? undefined : { key, state: desired, underlay };
    } catch (err) {
      this.metrics.applyErrors.inc();
      if (err instanceof DatapathApplyError) this.metrics.changes.inc(plan.length - err.failures.length);
      throw err;
    }
    this.recordRoutes(desired, config);
    const durationMs = Math.round(performance.now() - started);
    if (plan.length > 0) {
      const ms = (a: number, b: number) => Math.round((b - a) * 10) / 10;
      this.log.info(
        {
          changes: plan.length,
          durationMs,
          trusted: trusted !== undefined,
          desiredMs: ms(t0, t1),
          observeMs: ms(t1, t2),
          planMs: ms(t2, t3),
          applyMs: ms(t3, performance.now()),
          cpuMs: cpuMsSince(cpuStart),
        },
        'datapath changed',
      );
    } else this.log.debug({ durationMs }, 'datapath already in sync');
    return {
      changes: plan.length,
      peerRoutes: new Map(desired.peerRoutes),
      peerRoutes6: new Map(desired.peerRoutes6),
      mtu: desired.mtu,
      underlayInterface: underlay.iface,
    };
  }

  /**
   * The device first: routes through it need it to exist. Without encryption, once per process,
   * a device an earlier config left is removed (its routes went with the plan already).
   */
  private async syncWireguard(
    desired: DesiredDatapath,
    config: DatapathConfig,
    trusted: boolean,
  ): Promise<void> {
    if (desired.wireguard) {
      if (this.wireguard) return this.wireguard.sync(desired.wireguard, trusted);
      throw new DatapathError(
        'ENOWIREGUARD',
        'encryption is configured but the agent has no WireGuard device',
      );
    }
    if (this.checkedStaleWireguard) return;
    const links = await this.netlink.listLinks();
    if (links.some((l) => l.name === config.wireguardName)) {
      const failures = await this.netlink.runIpBatch([`link del dev ${config.wireguardName}`]);
      if (failures.length > 0) throw new DatapathApplyError(failures);
      this.log.info(
        { dev: config.wireguardName, op: 'link-del' },
        'WireGuard device of an earlier config removed',
      );
    }
    this.checkedStaleWireguard = true;
  }

  private recordRoutes(desired: DesiredDatapath, config: DatapathConfig): void {
    const counts = new Map<string, number>();
    const catchAll = new Set(config.encryption === 'none' ? [] : config.clusterCIDRs);
    for (const r of desired.routes) {
      if (catchAll.has(r.dst) && r.dev === config.wireguardName) continue;
      const kind: PeerRoute =
        r.dev === config.vxlanName ? 'vxlan' : r.dev === config.wireguardName ? 'wireguard' : 'direct';
      const key = routeCountKey(kind, r.dst.includes(':') ? 'ipv6' : 'ipv4');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    this.metrics.recordRoutes(counts);
  }

  /**
   * Without br_netfilter the bridge sysctl does not exist: pods of this node then
   * reach each other without passing the forward hook. Logged once, not retried.
   */
  private withoutMissingBrNetfilter(desired: DesiredDatapath, observed: DatapathState): DesiredDatapath {
    if (!desired.sysctls.has(BRIDGE_NF_CALL) || observed.sysctls.get(BRIDGE_NF_CALL) !== '') return desired;
    if (!this.loggedNoBrNetfilter) {
      this.loggedNoBrNetfilter = true;
      this.log.error(
        { op: 'sysctl', key: BRIDGE_NF_CALL },
        'br_netfilter is not loaded: NetworkPolicy is not enforced between pods of the same node',
      );
    }
    const sysctls = new Map(desired.sysctls);
    sysctls.delete(BRIDGE_NF_CALL);
    sysctls.delete(BRIDGE_NF_CALL6);
    return { ...desired, sysctls };
  }

  private logSkips(desired: DesiredDatapath): void {
    const key = JSON.stringify(desired.skipped);
    if (key === this.loggedSkips) return;
    this.loggedSkips = key;
    for (const s of desired.skipped) {
      if (s.family === 6)
        this.log.warn({ peer: s.peer, err: s.reason }, 'IPv6 podCIDRs of a peer left out of the datapath');
      else this.log.warn({ peer: s.peer, err: s.reason }, 'peer left out of the datapath');
    }
  }

  private async uninstallOnce(config: DatapathConfig): Promise<void> {
    const links = await this.netlink.listLinks();
    // The WireGuard device too (whatever the config says now): deleting a userspace device's
    // TUN ends its wireguard-go. Deleting the VXLAN device takes its neighbours and FDB entries.
    const ours = [config.wireguardName, config.vxlanName, config.bridgeName].filter((n) =>
      links.some((l) => l.name === n),
    );
    const failures = await this.netlink.runIpBatch(
      ours.map((n) => `link del dev ${n}`),
      true,
    );
    if (failures.length > 0) throw new DatapathApplyError(failures);
    await this.netlink.flushRoutes(this.protocol);
    await this.netlink.flushRoutes(this.protocol, 'main', 6);
    await this.netlink.flushRoutes(this.protocol, REPLY_TABLE);
    const ruleDels = (await this.netlink.listRules(this.protocol)).map((r) =>
      ipBatchLine({ op: 'rule-del', rule: toRule(r) }, this.protocol),
    );
    const ruleFailures = await this.netlink.runIpBatch(ruleDels.filter((l) => l !== undefined));
    if (ruleFailures.length > 0) throw new DatapathApplyError(ruleFailures);
    if (await this.netlink.readNftTable(NFT_FAMILY, NFT_TABLE))
      await this.netlink.runNftScript(renderNftDelete());
    this.metrics.recordRoutes(new Map());
    this.lastPlan = undefined;
    this.lastDesired = undefined;
    this.lastApplied = undefined;
    this.log.info({ dev: ours.join(',') }, 'datapath uninstalled');
  }
}

/** The network's desired state with the policy part added, or marked pending while there is none yet. */
function withPolicy(
  desired: DesiredDatapath,
  config: DatapathConfig,
  content: PolicyContent | undefined,
): DesiredDatapath {
  if (!config.networkPolicy || !desired.nft) return desired;
  if (!content) return { ...desired, policyPending: true };
  return {
    ...desired,
    nft: withPolicyContent(desired.nft, content),
    nftRules: new Map([...desired.nftRules, ...content.rules]),
  };
}
