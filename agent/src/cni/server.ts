import { chmod, lstat, mkdir, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Registry } from 'prom-client';
import type { Logger } from '../../../common/log.js';
import type { LocalNetworkProvider } from '../local-network.js';
import { OPEN_POD_GATE, type PodGate } from '../pod-gate.js';
import type { CniContext } from './context.js';
import { handleCniRequest } from './dispatch.js';
import { CniCode } from './errors.js';
import { decodeRequestFrame, encodeResponseFrame, FrameError } from './framing.js';
import { createIpRunner, type IpRunner } from './ip-runner.js';
import { computeRanges } from './ipam-range.js';
import { IpamSet } from './ipam-set.js';
import { AttachmentLock } from './keyed-lock.js';
import { CniMetrics, type IpamUsage } from './metrics.js';
import { LATEST_CNI_VERSION } from './versions.js';
import { VethPlumbing } from './veth-plumbing.js';

export interface CniServerOptions {
  /** Unix socket the shim connects to (default in production: /run/weft/cni.sock). */
  readonly socketPath: string;
  /** IPAM state lives in `<stateDir>/ipam/<network>.json`. */
  readonly stateDir: string;
  readonly localNetwork: LocalNetworkProvider;
  readonly log: Logger;
  readonly registry: Registry;
  /** Runs `ip`; defaults to the agent's own netns (or `hostNetns`). */
  readonly netnsRunner?: IpRunner;
  /** A named netns to treat as the node's (tests); ignored when netnsRunner is given. */
  readonly hostNetns?: string;
  /** Network whose IPAM state is loaded at start (the conflist's name); default "weft". */
  readonly networkName?: string;
  /** A request must arrive in full within this time (default 10 s). */
  readonly requestTimeoutMs?: number;
  /** What ADD waits on before it answers (network policy); default none. */
  readonly podGate?: PodGate;
}

export interface CniServer {
  /** Allocated and total pod addresses per loaded network, in the current podCIDRs. */
  ipamUsage(): IpamUsage[];
  /** Stops accepting, waits for requests in flight (at most 30 s), removes the socket. */
  close(): Promise<void>;
}

async function removeStaleSocket(path: string): Promise<void> {
  try {
    const st = await lstat(path);
    if (!st.isSocket()) throw new Error(`${path} exists and is not a socket`);
    await rm(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** Starts the agent's CNI server on a unix socket; resolves once it is listening. */
export async function startCniServer(opts: CniServerOptions): Promise<CniServer> {
  const log = opts.log.child({ component: 'cni' });
  const ipams = new IpamSet(opts.stateDir);
  const ipRunner = opts.netnsRunner ?? createIpRunner({ hostNetns: opts.hostNetns });
  const ctx: CniContext = {
    localNetwork: opts.localNetwork,
    ipams,
    plumbing: new VethPlumbing(ipRunner),
    locks: new AttachmentLock(),
    podGate: opts.podGate ?? OPEN_POD_GATE,
    log,
  };
  const ipamUsage = (): IpamUsage[] => {
    const net = opts.localNetwork();
    const { ranges } = computeRanges(net?.podCIDRs ?? []);
    return ipams.loaded().map((ipam) => ({ network: ipam.network, ...ipam.usage(ranges) }));
  };
  const metrics = new CniMetrics(opts.registry, ipamUsage);
  await ipams
    .get(opts.networkName ?? 'weft')
    .catch((err: unknown) => log.error({ err }, 'cannot load IPAM state'));

  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  const inflight = new Set<Promise<void>>();
  /** Connections still sending their request (safe to drop on close). */
  const receiving = new Set<Socket>();
  const server = createServer((socket) => {
    receiving.add(socket);
    socket.on('close', () => receiving.delete(socket));
    socket.on('error', (err) => log.debug({ err }, 'CNI connection error'));
    socket.setTimeout(timeoutMs, () => socket.destroy());
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      let raw: ReturnType<typeof decodeRequestFrame>;
      try {
        raw = decodeRequestFrame(received);
      } catch (err) {
        socket.off('data', onData);
        const body = {
          cniVersion: LATEST_CNI_VERSION,
          code: CniCode.decodeFailure,
          msg: 'malformed request from the shim',
          details: err instanceof FrameError ? err.message : String(err),
        };
        socket.end(encodeResponseFrame(1, JSON.stringify(body)));
        return;
      }
      if (!raw) return;
      socket.off('data', onData);
      receiving.delete(socket);
      socket.setTimeout(0);
      const work = handleCniRequest(ctx, metrics, raw).then((reply) => {
        if (!socket.destroyed) socket.end(encodeResponseFrame(reply.exitCode, reply.body));
      });
      inflight.add(work);
      void work.finally(() => inflight.delete(work));
    };
    socket.on('data', onData);
  });

  await mkdir(dirname(opts.socketPath), { recursive: true });
  await removeStaleSocket(opts.socketPath);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(opts.socketPath, 0o600);
  server.on('error', (err) => log.error({ err }, 'CNI server error'));
  log.info({ socket: opts.socketPath }, 'CNI server listening');

  return {
    ipamUsage,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of receiving) s.destroy();
      const cap = new Promise<void>((r) => setTimeout(r, 30_000).unref());
      await Promise.race([Promise.allSettled([...inflight]).then(() => closed), cap]);
      await rm(opts.socketPath, { force: true });
      if (!opts.netnsRunner) ipRunner.close();
    },
  };
}
