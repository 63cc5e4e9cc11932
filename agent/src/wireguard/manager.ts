import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { Logger } from '../../../common/log.js';
import type { WireguardHook } from '../datapath/datapath.js';
import type { DesiredWireguardPeers } from '../datapath/state.js';
import { desiredWireguard, type WgSkipReason } from './desired.js';
import { detectWireguard, type WgImplementation } from './detect.js';
import { WireguardDevice } from './device.js';
import { WireguardError } from './errors.js';
import { loadOrCreateNodeKey, rotateNodeKey, type WireguardKeyPair } from './keys.js';
import { WireguardMetrics } from './metrics.js';
import { planWireguard } from './plan.js';
import type { WgObservedPeer } from './state.js';

export interface WireguardManagerOptions {
  readonly device: string;
  /** The agent's state directory: the key file lives there (0600). */
  readonly stateDir: string;
  readonly wireguardGo: string;
  readonly runDir?: string | undefined;
  readonly netns?: string | undefined;
  readonly log: Logger;
  readonly registry: Registry;
  /** Test seam: the implementation to use instead of detecting one. */
  readonly implementation?: WgImplementation;
}

/** What `weft status` shows of the device. */
export interface WireguardStatus {
  readonly device: string;
  readonly implementation: WgImplementation['kind'];
  /** wireguard-go's version (userspace), or why there is none. */
  readonly detail: string;
  readonly publicKey: string;
  readonly listenPort: number | undefined;
  readonly peers: readonly WireguardPeerStatus[];
  readonly skipped: readonly { readonly peer: string; readonly reason: WgSkipReason }[];
}

export interface WireguardPeerStatus {
  readonly name: string;
  readonly publicKey: string;
  readonly endpoint: string | undefined;
  /** Unix seconds; 0 = never. */
  readonly latestHandshake: number;
  readonly rxBytes: number;
  readonly txBytes: number;
}

/**
 * The node's WireGuard side (ADR 16): its key pair, the implementation in use, and `weft.wg`
 * brought to what each datapath pass decides (the Datapath calls sync before its routes).
 */
export class WireguardManager implements WireguardHook {
  readonly implementation: WgImplementation;
  private key: WireguardKeyPair;
  private readonly stateDir: string;
  private readonly device: WireguardDevice;
  private readonly log: Logger;
  private readonly metrics: WireguardMetrics;
  private lastStatus: WireguardStatus;
  private loggedSkips = '';

  private constructor(
    opts: WireguardManagerOptions,
    key: WireguardKeyPair,
    implementation: WgImplementation,
    log: Logger,
  ) {
    this.key = key;
    this.stateDir = opts.stateDir;
    this.implementation = implementation;
    this.log = log;
    this.metrics = new WireguardMetrics(opts.registry, implementation.kind);
    this.device = new WireguardDevice({
      device: opts.device,
      implementation,
      netns: opts.netns,
      runDir: opts.runDir,
      onUserspaceExit: (code, signal, stderr) => {
        this.metrics.userspaceExits.inc();
        this.log.error(
          { dev: opts.device, code, signal, err: stderr.trim().slice(-500) },
          'wireguard-go exited; the next reconcile pass starts it again',
        );
      },
    });
    this.lastStatus = {
      device: opts.device,
      implementation: implementation.kind,
      detail: detailOf(implementation),
      publicKey: key.publicKey,
      listenPort: undefined,
      peers: [],
      skipped: [],
    };
  }

  /** Loads (or makes) the key and finds the implementation; logs which. A bad key file throws EKEYFILE. */
  static async create(opts: WireguardManagerOptions): Promise<WireguardManager> {
    const log = opts.log.child({ component: 'wireguard' });
    const loaded = await loadOrCreateNodeKey(opts.stateDir);
    // wg and wireguard-go see runDir as /run: their UAPI sockets go to <runDir>/wireguard.
    if (opts.runDir !== undefined)
      await mkdir(join(opts.runDir, 'wireguard'), { recursive: true, mode: 0o700 });
    const impl = opts.implementation ?? (await detectWireguard({ wireguardGo: opts.wireguardGo }));
    const fields = { dev: opts.device, implementation: impl.kind, detail: detailOf(impl) };
    if (impl.kind === 'none')
      log.error(fields, 'no WireGuard implementation: encrypted peers are not reached');
    else log.info(fields, 'WireGuard implementation');
    log.info(
      { op: loaded.created ? 'create' : 'load', path: loaded.path, publicKey: loaded.key.publicKey },
      loaded.created ? 'WireGuard key pair generated' : 'WireGuard key pair loaded',
    );
    return new WireguardManager(opts, loaded.key, impl, log);
  }

  get publicKey(): string {
    return this.key.publicKey;
  }

  /**
   * A new key pair on demand (SIGHUP): written to the key file, set on the device by the next
   * sync (the caller triggers one), published by gossip after it. Peers replace the old key when
   * they see the new one and handshake at once (keepalive); packets wait in the device meanwhile
   * (e2e: none of a 50 ms ping stream lost, longest round trip 2.8 ms).
   */
  async rotate(): Promise<void> {
    const loaded = await rotateNodeKey(this.stateDir);
    this.key = loaded.key;
    this.lastStatus = { ...this.lastStatus, publicKey: loaded.key.publicKey };
    this.log.info(
      { op: 'rotate', path: loaded.path, publicKey: loaded.key.publicKey },
      'WireGuard key pair rotated',
    );
  }

  status(): WireguardStatus {
    return this.lastStatus;
  }

  /** Brings weft.wg to `desired`; undefined (no encryption configured) removes a device left behind. */
  async sync(desired: DesiredWireguardPeers | undefined): Promise<void> {
    if (desired === undefined) {
      if ((await this.device.observe()).link !== undefined) await this.uninstall();
      return;
    }
    if (this.implementation.kind === 'none') {
      throw new WireguardError('ENOIMPL', `no WireGuard implementation: ${this.implementation.reason}`);
    }
    const { keyless, ...input } = desired;
    const result = desiredWireguard({ ...input, underlayFamily: 4, publicKey: this.key.publicKey });
    const want = result.desired;
    const skipped = [...keyless, ...result.skipped];
    this.logSkips(skipped);
    // One observe per pass when nothing changes (the usual case), a second only after a change.
    const before = await this.device.observe();
    const ops = planWireguard(want, before);
    if (ops.length > 0) await this.device.apply(ops, this.key);
    if (ops.length > 0) {
      this.log.info(
        { dev: desired.device, changes: ops.length, op: ops.map((o) => o.op).join(',') },
        'WireGuard device changed',
      );
    }
    const observed = ops.length > 0 ? await this.device.observe() : before;
    const nameOf = new Map(desired.peers.map((p) => [p.publicKey, p.name]));
    const peers = (observed.config?.peers ?? []).map((p) => peerStatus(p, nameOf.get(p.publicKey) ?? '?'));
    this.lastStatus = { ...this.lastStatus, listenPort: observed.config?.listenPort, peers, skipped };
    this.metrics.record(peers.length, skipped);
  }

  async uninstall(): Promise<void> {
    await this.device.uninstall();
    this.lastStatus = { ...this.lastStatus, listenPort: undefined, peers: [], skipped: [] };
    this.metrics.record(0, []);
    this.log.info({ dev: this.device.device, op: 'uninstall' }, 'WireGuard device removed');
  }

  close(): void {
    this.device.close();
  }

  private logSkips(skipped: readonly { peer: string; reason: WgSkipReason }[]): void {
    const key = JSON.stringify(skipped);
    if (key === this.loggedSkips) return;
    this.loggedSkips = key;
    for (const s of skipped) {
      this.log.warn(
        { peer: s.peer, err: s.reason },
        'peer left out of the WireGuard device (not sent in clear)',
      );
    }
  }
}

function detailOf(impl: WgImplementation): string {
  if (impl.kind === 'userspace') return `wireguard-go ${impl.version}`;
  if (impl.kind === 'none') return impl.reason;
  return 'kernel module';
}

function peerStatus(p: WgObservedPeer, name: string): WireguardPeerStatus {
  return {
    name,
    publicKey: p.publicKey,
    endpoint: p.endpoint,
    latestHandshake: p.latestHandshake,
    rxBytes: p.rxBytes,
    txBytes: p.txBytes,
  };
}
