/**
 * Start-up checks that turn a wrongly deployed agent into one clear error instead of a
 * half-working node: the capabilities the datapath needs, a writable /proc/sys/net, IPv6
 * on the node when the net-conf has an IPv6 cluster CIDR, and —
 * when running as a pod (in-cluster credentials) — that every host directory the agent
 * writes for the node is really a mount from the host, not the container's own
 * filesystem (a missing volumeMount would silently keep the CNI shim and conflist
 * inside the container).
 */
import { access, constants, readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentOptions } from './config/agent-options.js';
import { ConfigError } from './config/config-error.js';
import { type NetConf, servesIpv6 } from './config/net-conf.js';

/** Capabilities the datapath needs, by number (linux/capability.h). */
export const REQUIRED_CAPS: ReadonlyArray<readonly [string, number]> = [
  ['CAP_NET_ADMIN', 12],
  ['CAP_SYS_ADMIN', 21], // setns into pod network namespaces, mount of /run/netns
];

/** Where the container runtime puts pod network namespaces (the DaemonSet mounts it). */
export const NETNS_DIR = '/var/run/netns';

export interface MountEntry {
  readonly mountPoint: string;
  readonly root: string;
  readonly fsType: string;
}

/** Parses /proc/self/mountinfo (pure). */
export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (fields.length < 7 || dash < 6) continue;
    out.push({
      root: unescapeOctal(fields[3] as string),
      mountPoint: unescapeOctal(fields[4] as string),
      fsType: fields[dash + 1] ?? '',
    });
  }
  return out;
}

function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

/** The mount that holds `path` (longest mount point prefix; the last one wins when stacked). */
export function mountOf(path: string, mounts: readonly MountEntry[]): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const m of mounts) {
    const covers = m.mountPoint === '/' || path === m.mountPoint || path.startsWith(`${m.mountPoint}/`);
    if (covers && (!best || m.mountPoint.length >= best.mountPoint.length)) best = m;
  }
  return best;
}

/**
 * True when `path` lies on a mount brought in from the host: not the container's root
 * filesystem and not a fresh tmpfs/overlay the runtime made (those have root "/").
 */
export function isHostMount(path: string, mounts: readonly MountEntry[]): boolean {
  const m = mountOf(path, mounts);
  if (!m || m.mountPoint === '/') return false;
  return !(m.root === '/' && (m.fsType === 'tmpfs' || m.fsType === 'overlay'));
}

/** Names of REQUIRED_CAPS missing from a CapEff hex mask (pure). */
export function missingCapabilities(capEffHex: string): string[] {
  const mask = BigInt(`0x${capEffHex.trim() || '0'}`);
  return REQUIRED_CAPS.filter(([, bit]) => ((mask >> BigInt(bit)) & 1n) === 0n).map(([name]) => name);
}

export interface PreflightFacts {
  readonly capEff: string;
  readonly procSysNetWritable: boolean;
  readonly mounts: readonly MountEntry[];
  readonly inCluster: boolean;
  /** Symlinks resolved (e.g. /var/run → /run), by the path checked. */
  readonly realPaths?: Readonly<Record<string, string>>;
  /**
   * IPv6 in the agent's network namespace, read only when the net-conf needs it: `absent`
   * (no /proc/sys/net/ipv6: kernel without IPv6, or ipv6.disable=1), `disabled`
   * (net.ipv6.conf.all.disable_ipv6 is not 0) or `ok`.
   */
  readonly ipv6?: 'ok' | 'absent' | 'disabled';
}

const PROC_SYS_NET = '/proc/sys/net';
const DISABLE_IPV6 = 'ipv6/conf/all/disable_ipv6';

/** Every problem found, as ConfigErrors naming the setting at fault (pure). */
export function computePreflightProblems(opts: AgentOptions, facts: PreflightFacts): ConfigError[] {
  const problems: ConfigError[] = [];
  const missing = missingCapabilities(facts.capEff);
  if (missing.length > 0) {
    problems.push(
      new ConfigError(
        'securityContext',
        `CapEff=${facts.capEff.trim()}`,
        `missing ${missing.join(', ')}: the agent needs privileged: true (as its DaemonSet declares)`,
      ),
    );
  }
  if (!facts.procSysNetWritable) {
    problems.push(
      new ConfigError(
        'securityContext.privileged',
        '/proc/sys/net',
        'read-only: the agent sets ip_forward and per-device sysctls and must run privileged',
      ),
    );
  }
  if (facts.ipv6 === 'absent' || facts.ipv6 === 'disabled') {
    problems.push(
      new ConfigError(
        'net.ipv6.conf.all.disable_ipv6',
        facts.ipv6 === 'absent' ? `${PROC_SYS_NET}/ipv6 missing` : `${PROC_SYS_NET}/${DISABLE_IPV6}`,
        facts.ipv6 === 'absent'
          ? 'the net-conf has an IPv6 cluster CIDR but this node has no IPv6 (kernel without IPv6 or booted with ipv6.disable=1)'
          : 'the net-conf has an IPv6 cluster CIDR but IPv6 is disabled on this node: set the sysctl net.ipv6.conf.all.disable_ipv6=0',
      ),
    );
  }
  if (!facts.inCluster) return problems;
  for (const [field, dir] of checkedDirs(opts)) {
    if (isHostMount(facts.realPaths?.[dir] ?? dir, facts.mounts)) continue;
    problems.push(
      new ConfigError(
        field,
        dir,
        'not mounted from the host: the hostPath volumeMount for it is missing, so what the agent writes there would stay inside the container',
      ),
    );
  }
  return problems;
}

function checkedDirs(opts: AgentOptions): Array<[string, string]> {
  return [
    ['WEFT_CNI_BIN_DIR', opts.cniBinDir],
    ['WEFT_CNI_CONF_DIR', opts.cniConfDir],
    ['WEFT_RUN_DIR', opts.runDir],
    ['WEFT_STATE_DIR', opts.stateDir],
    ['volumeMount netns', NETNS_DIR],
  ];
}

/** PreflightFacts.ipv6 from `procSysNet` (/proc/sys/net; a test passes a directory of its own). */
export async function readIpv6State(procSysNet = PROC_SYS_NET): Promise<NonNullable<PreflightFacts['ipv6']>> {
  const present = await access(join(procSysNet, 'ipv6')).then(
    () => true,
    () => false,
  );
  if (!present) return 'absent';
  const value = await readFile(join(procSysNet, DISABLE_IPV6), 'utf8').catch(() => '1');
  return value.trim() === '0' ? 'ok' : 'disabled';
}

async function readPreflightFacts(
  opts: AgentOptions,
  env: NodeJS.ProcessEnv,
  ipv6: boolean,
): Promise<PreflightFacts> {
  const status = await readFile('/proc/self/status', 'utf8');
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? '0';
  const procSysNetWritable = await access('/proc/sys/net/ipv4/ip_forward', constants.W_OK).then(
    () => true,
    () => false,
  );
  const mounts = parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
  const inCluster = opts.kubeconfig === undefined && Boolean(env.KUBERNETES_SERVICE_HOST);
  const realPaths: Record<string, string> = {};
  if (inCluster) {
    for (const [, dir] of checkedDirs(opts)) realPaths[dir] = await realpath(dir).catch(() => dir);
  }
  const facts = { capEff, procSysNetWritable, mounts, inCluster, realPaths };
  return ipv6 ? { ...facts, ipv6: await readIpv6State() } : facts;
}

/**
 * Throws the first problem (all of them in its message) when the agent cannot work here;
 * IPv6 is checked when `netConf` has an IPv6 cluster CIDR.
 */
export async function assertPreflight(
  opts: AgentOptions,
  env: NodeJS.ProcessEnv,
  netConf?: Pick<NetConf, 'clusterCIDRs'>,
): Promise<void> {
  const facts = await readPreflightFacts(opts, env, netConf !== undefined && servesIpv6(netConf));
  const problems = computePreflightProblems(opts, facts);
  const [first] = problems;
  if (!first) return;
  if (problems.length === 1) throw first;
  throw new ConfigError(first.field, first.value, problems.map((p) => p.message).join('; '));
}
