import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backoffDelay, sleep } from '../../../common/backoff.js';
import { WeftError } from '../../../common/errors.js';
import type { Logger } from '../../../common/log.js';
import type { AgentRuntime } from '../runtime.js';
import { installCniFiles } from './install.js';
import type { IpamUsage } from './metrics.js';
import { ensurePortmap, PORTMAP_SOURCE_DIRS } from './portmap.js';
import { type CniServer, startCniServer } from './server.js';

/** The socket inside the agent's run dir that the installed conflist points the shim at. */
export const CNI_SOCKET_NAME = 'cni.sock';

/** The shim built by scripts/build.sh, relative to this file in dist/ (the image sets WEFT_CNI_SHIM). */
export function defaultShimPath(): string {
  return fileURLToPath(new URL('../../../../build/weft-cni-shim', import.meta.url));
}

/** What the CNI side uses of the agent runtime. */
export type CniRuntime = Pick<
  AgentRuntime,
  'opts' | 'log' | 'registry' | 'localNetwork' | 'podGate' | 'signal'
> & {
  readonly loop: Pick<AgentRuntime['loop'], 'onSynced'>;
};

export interface CniExtensionOptions {
  /** Where to find `portmap` when the CNI bin dir lacks it; default /usr/lib/cni, /opt/cni/bin. */
  readonly portmapSources?: readonly string[];
  /** First retry delay of a failed install (doubles up to 30 s); default 1 s. */
  readonly retryBaseMs?: number;
}

export interface CniExtension {
  /** Runs the CNI server until the runtime's signal aborts; installs the CNI files once ready. */
  start(rt: CniRuntime): Promise<void>;
  /** IPAM use per network (allocated/capacity); [] until the server runs. */
  ipamUsage(): IpamUsage[];
}

/**
 * The agent's CNI side: the server on `<runDir>/cni.sock` from the start (it answers
 * "try again later" until the node's network is ready), then — after the first
 * successful reconcile — portmap if the node lacks it, the shim, and the conflist
 * last, so the runtime sees the network only once ADD can succeed.
 */
export function createCniExtension(options: CniExtensionOptions = {}): CniExtension {
  let server: CniServer | undefined;
  return {
    ipamUsage: () => server?.ipamUsage() ?? [],
    async start(rt) {
      const socketPath = join(rt.opts.runDir, CNI_SOCKET_NAME);
      server = await startCniServer({
        socketPath,
        stateDir: rt.opts.stateDir,
        localNetwork: rt.localNetwork,
        log: rt.log,
        registry: rt.registry,
        podGate: rt.podGate,
        ...(rt.opts.netns ? { hostNetns: rt.opts.netns } : {}),
      });
      try {
        if (await waitForLocalNetwork(rt)) {
          await installWithRetry(rt, socketPath, options);
        }
        await aborted(rt.signal);
      } finally {
        await server.close();
      }
    },
  };
}

/** Resolves true once the node's network is ready, false when the signal aborts first. */
function waitForLocalNetwork(rt: CniRuntime): Promise<boolean> {
  if (rt.localNetwork()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = () => {
      off();
      resolve(false);
    };
    const off = rt.loop.onSynced(() => {
      if (!rt.localNetwork()) return;
      off();
      rt.signal.removeEventListener('abort', onAbort);
      resolve(true);
    });
    if (rt.signal.aborted) onAbort();
    else rt.signal.addEventListener('abort', onAbort, { once: true });
  });
}

async function installWithRetry(rt: CniRuntime, socketPath: string, options: CniExtensionOptions) {
  const log = rt.log.child({ component: 'cni' });
  const { cniBinDir: binDir, cniConfDir: confDir } = rt.opts;
  const shimSource = rt.opts.cniShim ?? defaultShimPath();
  for (let attempt = 0; !rt.signal.aborted; attempt++) {
    try {
      await applyPortmap(binDir, options.portmapSources ?? PORTMAP_SOURCE_DIRS, log);
      const r = await installCniFiles({ binDir, confDir, shimSource, socketPath });
      log.info({ op: 'install', binDir, confDir, shimSource, ...r }, 'CNI files installed');
      return;
    } catch (err: unknown) {
      log.error({ op: 'install', err, binDir, confDir, shimSource, attempt }, 'cannot install CNI files');
    }
    const delay = backoffDelay(attempt, options.retryBaseMs ?? 1000, 30_000);
    await sleep(delay, rt.signal).catch(() => undefined);
  }
}

/**
 * The conflist chains portmap, so a runtime fails every ADD without it: no portmap
 * means no conflist yet (the node stays "network not ready") and a retry later.
 */
async function applyPortmap(binDir: string, sources: readonly string[], log: Logger): Promise<void> {
  const outcome = await ensurePortmap(binDir, sources);
  if (outcome.action === 'copied') log.info({ op: 'install', from: outcome.from, binDir }, 'portmap copied');
  if (outcome.action === 'missing') {
    throw new WeftError(
      'ENOPORTMAP',
      `no portmap plugin in ${binDir} nor in ${outcome.searched.join(', ')}; install the CNI plugins`,
    );
  }
}

function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
