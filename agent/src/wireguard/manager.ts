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
  private deviceLost: (() => void) | undefined;
  /** The input of the last successful sync (see sync). */
  private lastApplied: string | undefined;

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
        // The device and the routes through it went with the process: a full pass remakes both.
        this.lastApplied = undefined;
        this.deviceLost?.();
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

  /** Called when wireguard-go ends on its own (the reconcile loop's full pass repairs it). */
  onDeviceLost(listener: () => void): void {
    this.deviceLost = listener;
  }

  get publicKey(): string {
    return this.key.publicKey;
  }

  /**
   * A new key pair on demand (SIGHUP): written to the key file, set on the device by the next
   * sync (the caller triggers one), published by gossip after it. Peers replace the old key when
   * they see the new one and handshake at once (keepalive); packets wait in the device meanwhile
   * (e2e: none of a 50 ms ping stream lost, longest round trip 2.8 and 30 ms in two runs).
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

  /**
   * Brings weft.wg to `desired`. A trusted (event-driven) pass whose input and key are those of
   * the last successful sync reads nothing: the periodic full pass still checks the device.
   */
  async sync(desired: DesiredWireguardPeers, trusted: boolean): Promise<void> {
    const input = JSON.stringify([desired, this.key.publicKey]);
    if (trusted && input === this.lastApplied) return;
    this.lastApplied = undefined;
    if (this.implementation.kind === 'none') {
      throw new WireguardError('ENOIMPL', `no WireGuard implementation: ${this.implementation.reason}`);
    }
    const { keyless, underlayFamily = 4, ...peers } = desired;
    const result = desiredWireguard({ ...peers, underlayFamily, publicKey: this.key.publicKey });
    const skipped = [...keyless, ...result.skipped];
    this.logSkips(skipped);
    const { ops, observed } = await this.device.syncObserved(result.desired, this.key);
    if (ops.length > 0) {
      this.log.info(
        { dev: desired.device, changes: ops.length, op: ops.map((o) => o.op).join(',') },
        'WireGuard device changed',
      );
    }
    const nameOf = new Map(desired.peers.map((p) => [p.publicKey, p.name]));
    const configured = observed.config?.peers ?? [];
    this.lastStatus = {
      ...this.lastStatus,
      listenPort: observed.config?.listenPort,
      peers: configured.map((p) => peerStatus(p, nameOf.get(p.publicKey) ?? '?')),
      skipped,
    };
    this.metrics.record(configured.length, skipped);
    this.lastApplied = input;
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
