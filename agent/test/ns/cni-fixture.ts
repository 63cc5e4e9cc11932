/**
 * A node for CNI namespace tests: its own netns with bridge weft0 (10.244.1.1/24
 * unless the pod network is IPv6-only; with an IPv6 podCIDR also its first host, as
 * the datapath gives it), temp CNI bin/conf/state dirs with the real shim and
 * conflist installed, the agent's CNI server (in this process or a child
 * process), and pods as netns. Everything is named `wtcni-<tag>-…` and removed
 * by cleanup(), also after failures.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Registry } from 'prom-client';
import { formatIp } from '../../../common/ip.js';
import { nthAddressOf, parseIpPrefix } from '../../../common/ip-prefix.js';
import { silentLogger } from '../../../common/log.js';
import { installCniFiles } from '../../src/cni/install.js';
import { ipamStatePath } from '../../src/cni/ipam.js';
import { attachmentKey, parseIpamState } from '../../src/cni/ipam-state.js';
import { hostVethName } from '../../src/cni/names.js';
import { type CniServer, startCniServer } from '../../src/cni/server.js';
import type { LocalNetwork } from '../../src/local-network.js';
import { CniRuntime, type RuntimeAttachment } from './cni-runtime.js';

export const execFileP = promisify(execFile);
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const REFERENCE_PLUGINS = '/usr/lib/cni';

export const IPV4_POD_CIDRS: readonly string[] = ['10.244.1.0/24'];

export function localNetworkFor(
  nodeName: string,
  podCIDRs: readonly string[] = IPV4_POD_CIDRS,
): LocalNetwork {
  return {
    nodeName,
    podCIDRs,
    // An IPv6-only node (no IPv4 podCIDR) is in an IPv6-only cluster (ADR 19).
    clusterCIDRs: podCIDRs.some((c) => !c.includes(':')) ? ['10.244.0.0/16'] : ['fd00:10:244::/48'],
    bridge: 'weft0',
    mtu: 1450,
  };
}

/** Builds the shim with the project's build script into `dir`; returns its path. */
export async function buildShim(dir: string): Promise<string> {
  const { stdout } = await execFileP('bash', [
    join(REPO_ROOT, 'agent/cni-shim/build.sh'),
    join(dir, 'weft-cni-shim'),
  ]);
  return stdout.trim().split('\n').at(-1) as string;
}

export async function ip(args: string[]): Promise<string> {
  return (await execFileP('ip', args)).stdout;
}

export class CniTestNode {
  readonly netns: string;
  readonly nsPath: string;
  readonly binDir: string;
  readonly confDir: string;
  readonly stateDir: string;
  readonly socketPath: string;
  runtime!: CniRuntime;
  server: CniServer | undefined;
  child: ChildProcess | undefined;
  registry = new Registry();
  ready = true;
  podCIDRs: readonly string[] = IPV4_POD_CIDRS;
  private readonly pods = new Set<string>();

  private constructor(
    readonly tag: string,
    readonly dir: string,
    readonly shim: string,
  ) {
    this.netns = `wtcni-${tag}-node`;
    this.nsPath = `/var/run/netns/${this.netns}`;
    this.binDir = join(dir, 'bin');
    this.confDir = join(dir, 'net.d');
    this.stateDir = join(dir, 'state');
    this.socketPath = join(dir, 'run', 'cni.sock');
  }

  /** The bridge's IPv6 address (first host of the IPv6 podCIDR), `nodad` as the datapath adds it. */
  static bridgeIpv6Lines(podCIDRs: readonly string[]): string[] {
    return podCIDRs
      .filter((c) => c.includes(':'))
      .map((c) => {
        const p = parseIpPrefix(c);
        return `addr add ${formatIp(nthAddressOf(p, 1n))}/${p.length} dev weft0 nodad`;
      });
  }

  /** Creates the node netns, bridge, dirs, installs shim + conflist, starts the server in-process. */
  static async create(
    tag: string,
    opts: { startServer?: boolean; podCIDRs?: readonly string[] } = {},
  ): Promise<CniTestNode> {
    const dir = await mkdtemp(join(tmpdir(), `wtcni-${tag}-`));
    const node = new CniTestNode(tag, dir, await buildShim(dir));
    node.podCIDRs = opts.podCIDRs ?? IPV4_POD_CIDRS;
    try {
      await node.removeNamespaces();
      await ip(['netns', 'add', node.netns]);
      const batch = [
        'link set lo up',
        'link add weft0 address 02:77:65:66:74:00 type bridge',
        ...(node.podCIDRs.some((c) => !c.includes(':')) ? ['addr add 10.244.1.1/24 dev weft0'] : []),
        ...CniTestNode.bridgeIpv6Lines(node.podCIDRs),
        'link set weft0 up',
        '',
      ].join('\n');
      await new Promise<void>((resolve, reject) => {
        const c = spawn('ip', ['-n', node.netns, '-batch', '-'], { stdio: ['pipe', 'ignore', 'inherit'] });
        c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`bridge setup failed: ${code}`))));
        c.stdin.end(batch);
      });
      await installCniFiles({
        binDir: node.binDir,
        confDir: node.confDir,
        shimSource: node.shim,
        socketPath: node.socketPath,
        pluginDirs: [REFERENCE_PLUGINS],
      });
      node.runtime = await CniRuntime.load(
        join(node.confDir, '10-weft.conflist'),
        [node.binDir, REFERENCE_PLUGINS],
        node.nsPath,
      );
      if (opts.startServer !== false) await node.startServer();
      return node;
    } catch (err) {
      await node.cleanup();
      throw err;
    }
  }

  async startServer(): Promise<void> {
    this.registry = new Registry();
    this.server = await startCniServer({
      socketPath: this.socketPath,
      stateDir: this.stateDir,
      localNetwork: () => (this.ready ? localNetworkFor(this.netns, this.podCIDRs) : undefined),
      log: silentLogger(),
      registry: this.registry,
      hostNetns: this.netns,
    });
  }

  async stopServer(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }

  /** Starts the server in a child process (dist/agent/test/ns/cni-agent-child.js); resolves when listening. */
  async startChildAgent(): Promise<ChildProcess> {
    const script = fileURLToPath(new URL('./cni-agent-child.js', import.meta.url));
    const args = [script, this.socketPath, this.stateDir, this.netns, this.podCIDRs.join(',')];
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      child.stdout?.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`child agent exited with ${code}`)));
    });
    return child;
  }

  async killChildAgent(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    this.child = undefined;
  }

  /** Creates the pod netns `wtcni-<tag>-p<i>`; returns its path. */
  async createPod(i: number | string): Promise<string> {
    const name = this.podName(i);
    await ip(['netns', 'add', name]);
    this.pods.add(name);
    return `/var/run/netns/${name}`;
  }

  podName(i: number | string): string {
    return `wtcni-${this.tag}-p${i}`;
  }

  /** Creates pod netns `pod` and ADDs it; the result and the index of the pod interface in it. */
  async addPod<R extends { interfaces: ReadonlyArray<{ sandbox?: string }> }>(
    pod: string,
    containerId: string,
  ): Promise<{ a: RuntimeAttachment; r: R; podIndex: number }> {
    const netns = await this.createPod(pod);
    const a = { containerId, netns };
    const r = (await this.runtime.add(a)) as unknown as R;
    const podIndex = r.interfaces.findIndex((i) => i.sandbox === netns);
    if (podIndex < 0) throw new Error(`ADD result without the pod interface in ${netns}`);
    return { a, r, podIndex };
  }

  /**
   * DEL → DEL of an attachment: after the first its addresses are released and its host veth
   * is gone; the second (nothing left to remove) succeeds too. Throws naming what is left.
   */
  async delTwice(a: RuntimeAttachment, result: unknown): Promise<void> {
    const key = attachmentKey({ containerId: a.containerId, ifname: a.ifname ?? 'eth0' });
    await this.runtime.del(a, result);
    const state = parseIpamState(await readFile(ipamStatePath(this.stateDir, 'weft'), 'utf8'));
    if (state.allocations.has(key)) throw new Error(`DEL left the addresses of ${key} allocated`);
    const veth = hostVethName({ containerId: a.containerId, ifname: a.ifname ?? 'eth0' });
    if ((await this.hostVeths()).includes(veth)) throw new Error(`DEL left ${veth} in ${this.netns}`);
    await this.runtime.del(a, result);
  }

  async deletePod(i: number | string): Promise<void> {
    const name = this.podName(i);
    await ip(['netns', 'del', name]).catch(() => {});
    this.pods.delete(name);
  }

  /** Pings `target` (`ping -6` for an IPv6 one) from the node netns (or from the pod netns `fromPod`). */
  async ping(target: string, fromPod?: number | string): Promise<boolean> {
    const ns = fromPod === undefined ? this.netns : this.podName(fromPod);
    const family = target.includes(':') ? ['-6'] : [];
    try {
      await execFileP('ip', ['netns', 'exec', ns, 'ping', ...family, '-c', '1', '-W', '2', '-q', target]);
      return true;
    } catch {
      return false;
    }
  }

  /** Host-side veth names in the node netns. */
  async hostVeths(): Promise<string[]> {
    const links = JSON.parse(await ip(['-n', this.netns, '-j', 'link', 'show', 'type', 'veth'])) as Array<{
      ifname: string;
    }>;
    return links.map((l) => l.ifname);
  }

  private async removeNamespaces(): Promise<void> {
    const { stdout } = await execFileP('ip', ['netns', 'list']);
    const prefix = `wtcni-${this.tag}-`;
    const mine = stdout
      .split('\n')
      .map((l) => l.split(' ')[0] ?? '')
      .filter((n) => n.startsWith(prefix));
    for (const n of mine) await ip(['netns', 'del', n]).catch(() => {});
  }

  async cleanup(): Promise<void> {
    await this.killChildAgent().catch(() => {});
    await this.stopServer().catch(() => {});
    await this.removeNamespaces().catch(() => {});
    this.pods.clear();
    await rm(this.dir, { recursive: true, force: true });
  }
}
