import { isIpv4 } from '../../../common/cidr.js';
import { ipFamilyOf } from '../../../common/ip.js';
import { DEFAULT_NAMESPACE, NAMESPACE_RE } from '../../../common/names.js';
import { ConfigError } from './config-error.js';

/** Process-level settings from the environment (and the equivalent --flags). */
export interface AgentOptions {
  readonly nodeName: string;
  /** The agent's namespace (DaemonSet: downward API), where the gossip key Secret lives. */
  readonly namespace: string;
  /** Path to a kubeconfig; undefined = in-cluster service account. */
  readonly kubeconfig: string | undefined;
  readonly netConfPath: string;
  readonly cniBinDir: string;
  readonly cniConfDir: string;
  /** The built CNI shim the agent installs as `<cniBinDir>/weft`; undefined = the repo's build/weft-cni-shim. */
  readonly cniShim: string | undefined;
  readonly runDir: string;
  readonly stateDir: string;
  readonly httpHost: string;
  readonly httpPort: number;
  readonly gossipPort: number;
  /** The cluster gossip key (the mounted Secret); the agent waits for it to appear. */
  readonly gossipKeyFile: string;
  /** Gossip with a fixed public key instead of the key file: tests only. */
  readonly gossipInsecure: boolean;
  /** A silent peer is suspect after this long, dead after gossipDeadMs (> suspect). */
  readonly gossipSuspectMs: number;
  readonly gossipDeadMs: number;
  readonly bridgeName: string;
  readonly vxlanName: string;
  readonly wireguardName: string;
  /** wireguard-go, the userspace WireGuard used where the kernel has no module (ADR 16). */
  readonly wireguardGo: string;
  /**
   * A directory wg and wireguard-go see as /run (undefined = the real /run). For several agents
   * on one machine (the local cluster): the UAPI socket /run/wireguard/<dev>.sock is a path.
   */
  readonly wireguardRunDir: string | undefined;
  /** Named network namespace to program instead of the current one (tests only). */
  readonly netns: string | undefined;
  /** `--uninstall`: remove everything Weft created on this node and exit. */
  readonly uninstall: boolean;
}

/** Env var → flag name; a flag wins over its env var. */
const SETTINGS = {
  NODE_NAME: 'node-name',
  POD_NAMESPACE: 'namespace',
  KUBECONFIG: 'kubeconfig',
  WEFT_NET_CONF: 'net-conf',
  WEFT_CNI_BIN_DIR: 'cni-bin-dir',
  WEFT_CNI_CONF_DIR: 'cni-conf-dir',
  WEFT_CNI_SHIM: 'cni-shim',
  WEFT_RUN_DIR: 'run-dir',
  WEFT_STATE_DIR: 'state-dir',
  WEFT_HTTP_ADDR: 'http-addr',
  WEFT_GOSSIP_PORT: 'gossip-port',
  WEFT_GOSSIP_KEY_FILE: 'gossip-key-file',
  WEFT_GOSSIP_INSECURE: 'gossip-insecure',
  WEFT_GOSSIP_SUSPECT_SECONDS: 'gossip-suspect-seconds',
  WEFT_GOSSIP_DEAD_SECONDS: 'gossip-dead-seconds',
  WEFT_BRIDGE: 'bridge',
  WEFT_VXLAN_DEV: 'vxlan-dev',
  WEFT_WIREGUARD_DEV: 'wireguard-dev',
  WEFT_WIREGUARD_GO: 'wireguard-go',
  WEFT_WIREGUARD_RUN_DIR: 'wireguard-run-dir',
  WEFT_NETNS: 'netns',
} as const;
type SettingName = keyof typeof SETTINGS;

/** `weft-agent --help`: every flag with its environment variable (docs/configuration.md has defaults). */
export function agentUsage(): string {
  const rows = Object.entries(SETTINGS).map(([env, flag]) => `  --${flag.padEnd(24)} ${env}`);
  return [
    'usage: weft-agent [flags]     (each flag may be given as its environment variable instead)',
    ...rows,
    `  --${'uninstall'.padEnd(24)} remove everything Weft created on this node, then exit`,
    `  --${'help'.padEnd(24)} this text`,
    'reference: docs/configuration.md',
    '',
  ].join('\n');
}

/** Interface names the kernel accepts: 1..15 bytes, no '/', no whitespace. */
const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;
const NETNS_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/** Parses argv (after the script name) and env into AgentOptions or throws a ConfigError. */
export function parseAgentOptions(argv: readonly string[], env: NodeJS.ProcessEnv): AgentOptions {
  const flags = parseFlags(argv);
  const get = (name: SettingName): string | undefined => {
    const value = flags.get(SETTINGS[name]) ?? env[name];
    return value === '' ? undefined : value;
  };
  const uninstall = flags.has('uninstall');
  const nodeName = get('NODE_NAME');
  if (nodeName === undefined && !uninstall) throw new ConfigError('NODE_NAME', nodeName, 'required');
  if (nodeName !== undefined && !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(nodeName)) {
    throw new ConfigError('NODE_NAME', nodeName, 'not a valid Kubernetes node name');
  }
  const gossipSuspectMs = parseSeconds(
    'WEFT_GOSSIP_SUSPECT_SECONDS',
    get('WEFT_GOSSIP_SUSPECT_SECONDS') ?? '20',
  );
  const gossipDeadMs = parseSeconds('WEFT_GOSSIP_DEAD_SECONDS', get('WEFT_GOSSIP_DEAD_SECONDS') ?? '40');
  if (gossipDeadMs <= gossipSuspectMs) {
    throw new ConfigError(
      'WEFT_GOSSIP_DEAD_SECONDS',
      get('WEFT_GOSSIP_DEAD_SECONDS') ?? '40',
      `must be greater than WEFT_GOSSIP_SUSPECT_SECONDS (${gossipSuspectMs / 1000})`,
    );
  }
  const [httpHost, httpPort] = parseHostPort('WEFT_HTTP_ADDR', get('WEFT_HTTP_ADDR') ?? '0.0.0.0:9742');
  return {
    nodeName: nodeName ?? '',
    namespace: parseName('POD_NAMESPACE', get('POD_NAMESPACE') ?? DEFAULT_NAMESPACE, NAMESPACE_RE),
    kubeconfig: get('KUBECONFIG'),
    netConfPath: get('WEFT_NET_CONF') ?? '/etc/weft/net-conf.json',
    cniBinDir: parsePath('WEFT_CNI_BIN_DIR', get('WEFT_CNI_BIN_DIR') ?? '/opt/cni/bin'),
    cniConfDir: parsePath('WEFT_CNI_CONF_DIR', get('WEFT_CNI_CONF_DIR') ?? '/etc/cni/net.d'),
    cniShim: optional(get('WEFT_CNI_SHIM'), (v) => parsePath('WEFT_CNI_SHIM', v)),
    runDir: parsePath('WEFT_RUN_DIR', get('WEFT_RUN_DIR') ?? '/run/weft'),
    stateDir: parsePath('WEFT_STATE_DIR', get('WEFT_STATE_DIR') ?? '/var/lib/weft'),
    httpHost,
    httpPort,
    gossipPort: parsePort('WEFT_GOSSIP_PORT', get('WEFT_GOSSIP_PORT') ?? '9743'),
    gossipKeyFile: parsePath('WEFT_GOSSIP_KEY_FILE', get('WEFT_GOSSIP_KEY_FILE') ?? '/etc/weft/gossip/key'),
    gossipInsecure: parseBoolean('WEFT_GOSSIP_INSECURE', get('WEFT_GOSSIP_INSECURE') ?? 'false'),
    gossipSuspectMs,
    gossipDeadMs,
    bridgeName: parseName('WEFT_BRIDGE', get('WEFT_BRIDGE') ?? 'weft0', IFNAME_RE),
    vxlanName: parseName('WEFT_VXLAN_DEV', get('WEFT_VXLAN_DEV') ?? 'weft.vxlan', IFNAME_RE),
    wireguardName: parseName('WEFT_WIREGUARD_DEV', get('WEFT_WIREGUARD_DEV') ?? 'weft.wg', IFNAME_RE),
    wireguardGo: parsePath('WEFT_WIREGUARD_GO', get('WEFT_WIREGUARD_GO') ?? '/usr/local/bin/wireguard-go'),
    wireguardRunDir: optional(get('WEFT_WIREGUARD_RUN_DIR'), (v) => parsePath('WEFT_WIREGUARD_RUN_DIR', v)),
    netns: optional(get('WEFT_NETNS'), (v) => parseName('WEFT_NETNS', v, NETNS_RE)),
    uninstall,
  };
}

function parseFlags(argv: readonly string[]): Map<string, string> {
  const known = new Set<string>([...Object.values(SETTINGS), 'uninstall']);
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m || !known.has(m[1] as string)) throw new ConfigError('argv', arg, 'unknown flag');
    const name = m[1] as string;
    if (name === 'uninstall') {
      if (m[2] !== undefined) throw new ConfigError('--uninstall', m[2], 'takes no value');
      flags.set(name, 'true');
    } else if (m[2] !== undefined) {
      flags.set(name, m[2]);
    } else {
      const value = argv[++i];
      if (value === undefined) throw new ConfigError(`--${name}`, value, 'needs a value');
      flags.set(name, value);
    }
  }
  return flags;
}

/** "IPv4:port", "localhost:port" or "[IPv6]:port" (e.g. "[::]:9742" in an IPv6-only cluster). */
function parseHostPort(field: string, value: string): [string, number] {
  const idx = value.lastIndexOf(':');
  const host = value.slice(0, idx);
  const ipv6 = /^\[(.+)\]$/.exec(host)?.[1];
  const ok =
    ipv6 === undefined ? isIpv4(host) || host === 'localhost' : ipFamilyOf(ipv6) === 6 && !ipv6.includes('/');
  if (idx < 0 || !ok) {
    throw new ConfigError(field, value, 'must be IPv4:port or [IPv6]:port, e.g. 0.0.0.0:9742 or [::]:9742');
  }
  return [ipv6 ?? host, parsePort(field, value.slice(idx + 1), value)];
}

function parsePort(field: string, text: string, shown: string = text): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 1 && port <= 65_535)) throw new ConfigError(field, shown, 'port must be in [1, 65535]');
  return port;
}

/** Seconds as a decimal number in [0.2, 3600]; returns milliseconds. */
function parseSeconds(field: string, text: string): number {
  const seconds = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!(seconds >= 0.2 && seconds <= 3600)) {
    throw new ConfigError(field, text, 'must be a number of seconds in [0.2, 3600]');
  }
  return Math.round(seconds * 1000);
}

function parseBoolean(field: string, text: string): boolean {
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new ConfigError(field, text, 'must be true or false');
}

function parsePath(field: string, value: string): string {
  if (!value.startsWith('/')) throw new ConfigError(field, value, 'must be an absolute path');
  return value.replace(/\/+$/, '') || '/';
}

function parseName(field: string, value: string, re: RegExp): string {
  if (!re.test(value)) throw new ConfigError(field, value, `must match ${re.source}`);
  return value;
}

function optional<T>(value: string | undefined, parse: (v: string) => T): T | undefined {
  return value === undefined ? undefined : parse(value);
}
