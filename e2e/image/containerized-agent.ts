/**
 * The agent of a local-cluster node run from the image, the way the DaemonSet runs it:
 * the container spec is read from manifests/10-agent-daemonset.yaml, its volumes are
 * prepared as the kubelet would (node-volumes.ts), `podman run` joins the node's
 * network namespace (hostNetwork), and the readiness/liveness probes are polled from
 * inside that namespace; a liveness failure restarts the container.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CommandResult, runCommand } from '../cluster/exec.js';
import type { Cluster, ClusterNode } from '../cluster/index.js';
import { type AgentPodSpec, parseAgentDaemonSet } from './daemonset-spec.js';
import { prepareNodeBinding } from './node-volumes.js';
import { hostPathOf, type NodeBinding, planPodmanRun } from './podman-args.js';
import { ProbeLoop } from './prober.js';

export const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
export const AGENT_DAEMONSET = join(REPO, 'manifests/10-agent-daemonset.yaml');

/** The shipped agent DaemonSet's container spec. */
export function loadAgentSpec(path = AGENT_DAEMONSET): AgentPodSpec {
  return parseAgentDaemonSet(readFileSync(path, 'utf8'));
}

export function podman(args: readonly string[], timeoutMs = 60_000): Promise<CommandResult> {
  return runCommand(['podman', ...args], { timeoutMs });
}

async function podmanChecked(args: readonly string[], timeoutMs?: number): Promise<string> {
  const r = await podman(args, timeoutMs);
  if (r.code !== 0) throw new Error(`podman ${args[0]} failed (exit ${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Removes every container whose name starts with `prefix` (leftovers of a crashed run). */
export async function removeContainers(prefix: string): Promise<void> {
  const names = (await podmanChecked(['ps', '-a', '--format', '{{.Names}}'])).split('\n');
  for (const name of names.filter((n) => n.startsWith(prefix))) await podman(['rm', '-f', '-t', '1', name]);
}

/** Container name of the agent of `node` in `cluster`. */
export function agentContainerName(cluster: Pick<Cluster, 'name'>, node: Pick<ClusterNode, 'name'>): string {
  return `weft-agent-${cluster.name}-${node.name}`;
}

export interface StartOptions {
  /** Declared volumeMounts to leave out (the agent must refuse to start). */
  readonly omitMounts?: readonly string[];
  readonly extraEnv?: Readonly<Record<string, string>>;
  /** Poll the probes (default true). */
  readonly probes?: boolean;
  /** Appended to the container name, for a second container on the same node. */
  readonly nameSuffix?: string;
}

export class ContainerizedAgent {
  private readonly ac = new AbortController();
  private readonly loops: Promise<void>[] = [];
  readonly readiness: ProbeLoop | undefined;
  readonly liveness: ProbeLoop | undefined;
  restarts = 0;

  private constructor(
    readonly cluster: Cluster,
    readonly node: ClusterNode,
    readonly spec: AgentPodSpec,
    readonly binding: NodeBinding,
  ) {
    const get = (url: string, timeoutSeconds: number) => this.httpGetInNode(url, timeoutSeconds);
    this.readiness = spec.readiness && new ProbeLoop(spec.readiness, get);
    this.liveness = spec.liveness && new ProbeLoop(spec.liveness, get, () => void this.restart());
  }

  get name(): string {
    return this.binding.containerName;
  }

  /** Prepares the volumes and starts the container; resolves once podman has started it. */
  static async start(
    cluster: Cluster,
    node: ClusterNode,
    spec: AgentPodSpec,
    opts: StartOptions = {},
  ): Promise<ContainerizedAgent> {
    const name = agentContainerName(cluster, node) + (opts.nameSuffix ?? '');
    await podman(['rm', '-f', '-t', '1', name]);
    const prepared = await prepareNodeBinding(cluster, node, spec, name);
    const binding: NodeBinding = {
      ...prepared,
      ...(opts.omitMounts ? { omitMounts: opts.omitMounts } : {}),
      ...(opts.extraEnv ? { extraEnv: opts.extraEnv } : {}),
    };
    await podmanChecked(planPodmanRun(spec, binding));
    const agent = new ContainerizedAgent(cluster, node, spec, binding);
    if (opts.probes !== false) agent.startProbes();
    return agent;
  }

  private startProbes(): void {
    for (const loop of [this.readiness, this.liveness]) if (loop) this.loops.push(loop.run(this.ac.signal));
  }

  /** HTTP GET from inside the node's network namespace (as the kubelet on a hostNetwork pod); the status or 0. */
  async httpGetInNode(url: string, timeoutSeconds: number): Promise<number> {
    const r = await this.cluster.execInNode(
      this.node,
      ['curl', '-s', '-o', '/dev/null', '-m', String(timeoutSeconds), '-w', '%{http_code}', url],
      { timeoutMs: (timeoutSeconds + 5) * 1000 },
    );
    return Number(r.stdout.trim()) || 0;
  }

  /** The machine path behind a path inside the container (its mounts), e.g. the CNI socket. */
  hostPath(containerPath: string): string {
    const p = hostPathOf(containerPath, this.spec, this.binding);
    if (p === undefined) throw new Error(`${containerPath} is not on a volume of ${this.name}`);
    return p;
  }

  /** `podman exec` — what `kubectl exec` does for this pod. */
  exec(argv: readonly string[], timeoutMs = 30_000): Promise<CommandResult> {
    return podman(['exec', this.name, ...argv], timeoutMs);
  }

  async logs(): Promise<string> {
    const r = await podman(['logs', this.name]);
    return r.stdout + r.stderr;
  }

  /** `{{.State.Status}}` and the exit code. */
  async state(): Promise<{ status: string; exitCode: number }> {
    const out = await podmanChecked([
      'inspect',
      '--format',
      '{{.State.Status}} {{.State.ExitCode}}',
      this.name,
    ]);
    const [status, code] = out.trim().split(' ');
    return { status: status ?? '', exitCode: Number(code) };
  }

  /** Resolves the exit code once the container has stopped (rejects after timeoutMs). */
  async waitExit(timeoutMs = 60_000): Promise<number> {
    const out = await podmanChecked(['wait', this.name], timeoutMs);
    return Number(out.trim());
  }

  /** Waits until the readiness probe has succeeded (or the container is gone). */
  async waitReady(timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.readiness?.state.ready) return;
      const { status } = await this.state();
      if (status === 'exited' || status === 'stopped') {
        throw new Error(`${this.name} exited before it was ready:\n${(await this.logs()).slice(-3000)}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`${this.name} not ready within ${timeoutMs} ms:\n${(await this.logs()).slice(-3000)}`);
  }

  private async restart(): Promise<void> {
    if (this.ac.signal.aborted) return;
    this.restarts++;
    await podman(['restart', '-t', '10', this.name]);
  }

  /** Stops the probes and removes the container (SIGTERM, grace period, then kill). */
  async stop(graceSeconds = 10): Promise<void> {
    this.ac.abort();
    await Promise.allSettled(this.loops);
    await podman(['stop', '-t', String(graceSeconds), this.name], (graceSeconds + 30) * 1000);
    await podman(['rm', '-f', '-t', '1', this.name]);
  }
}
