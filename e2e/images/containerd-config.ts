/**
 * One containerd 2.x instance of its own on a machine shared with others: every path it writes
 * (root, state, temp, sockets, runc state, FIFOs, CNI dirs) lies under one directory, so that
 * several of them (one per node) never meet, and removing that directory removes the instance.
 * Pure: paths and the config file text; starting and stopping are in containerd.ts.
 */
import { join } from 'node:path';

/** The sandbox image kubelet 1.33 and its e2e suite use (containerd 2.x itself defaults to 3.10.2). */
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';

/**
 * Plugins left out by default: snapshotters other than overlayfs and native (each one either
 * needs a filesystem this machine lacks or makes its own files) and tracing (nothing collects it).
 */
export const DEFAULT_DISABLED_PLUGINS: readonly string[] = [
  'io.containerd.snapshotter.v1.blockfile',
  'io.containerd.snapshotter.v1.btrfs',
  'io.containerd.snapshotter.v1.devmapper',
  'io.containerd.snapshotter.v1.erofs',
  'io.containerd.snapshotter.v1.zfs',
  'io.containerd.tracing.processor.v1.otlp',
  'io.containerd.internal.v1.tracing',
];

export interface ContainerdPaths {
  readonly dir: string;
  readonly config: string;
  readonly root: string;
  readonly state: string;
  readonly temp: string;
  /** The gRPC socket: `ctr --address`, `crictl --runtime-endpoint unix://…`, kubelet's endpoint. */
  readonly address: string;
  readonly log: string;
  /** runc's state (`--root`) for this instance's containers; the shim's default is machine-wide. */
  readonly runcRoot: string;
  /** Where `ctr run`/`ctr tasks exec` put their stdio FIFOs (default /run/containerd/fifo). */
  readonly fifoDir: string;
  readonly opt: string;
  readonly cniConfDir: string;
  readonly cniBinDir: string;
  /**
   * The shims' sockets (containerd >= 2.3 takes it; at most 42 characters). Undefined when the
   * path is longer: the shims then use /run/containerd/s, with names hashed from `address`.
   */
  readonly shimSocketDir: string | undefined;
}

const MAX_SHIM_SOCKET_DIR = 42;

/** The layout of an instance living in `dir`. */
export function containerdPaths(dir: string): ContainerdPaths {
  return {
    dir,
    config: join(dir, 'config.toml'),
    root: join(dir, 'root'),
    state: join(dir, 'state'),
    temp: join(dir, 'tmp'),
    address: join(dir, 'containerd.sock'),
    log: join(dir, 'containerd.log'),
    runcRoot: join(dir, 'state', 'runc'),
    fifoDir: join(dir, 'fifo'),
    opt: join(dir, 'opt'),
    cniConfDir: join(dir, 'cni', 'net.d'),
    cniBinDir: join(dir, 'cni', 'bin'),
    shimSocketDir: join(dir, 's').length <= MAX_SHIM_SOCKET_DIR ? join(dir, 's') : undefined,
  };
}

export interface ContainerdConfigOptions {
  /** The image of pod sandboxes (pinned: kubelet's image GC never removes it). */
  sandboxImage?: string;
  /** The OCI runtime binary (default Debian's /usr/sbin/runc). */
  runcBinary?: string;
  /** Directories searched for CNI plugins (default: the instance's own cni/bin). */
  cniBinDirs?: readonly string[];
  /** The CNI config directory (default: the instance's own cni/net.d). */
  cniConfDir?: string;
  /** Replaces DEFAULT_DISABLED_PLUGINS. */
  disabledPlugins?: readonly string[];
  /** Address of the CRI streaming server (exec, attach, port-forward); port 0 picks a free one. */
  streamServerAddress?: string;
  streamServerPort?: number;
  /** Pod network namespaces under the state dir instead of /var/run/netns (default false). */
  netnsMountsUnderStateDir?: boolean;
  /**
   * Cap the oom_score_adj of containers at containerd's own (default true). Lowering it needs
   * CAP_SYS_RESOURCE, which root lacks on these machines: without the cap every pod sandbox
   * (oom_score_adj -998) fails in runc with "can't get final child's PID from pipe: EOF".
   */
  restrictOomScoreAdj?: boolean;
}

/** A TOML basic string (JSON's escapes are TOML's for the characters paths and names contain). */
function str(s: string): string {
  if ([...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))
    throw new Error(`containerd config: control character in ${JSON.stringify(s)}`);
  return JSON.stringify(s);
}

function strList(items: readonly string[]): string {
  return `[${items.map(str).join(', ')}]`;
}

/**
 * The config file (version 3) of the instance at `paths`: CRI with the overlayfs snapshotter,
 * runc through the runc v2 shim with cgroupfs (no systemd on these machines; cgroup v1 or v2),
 * runc state under the instance's state dir, NRI off (its socket is machine-wide), no TCP or
 * metrics listener, oom_score_adj never below containerd's own. containerd refuses to start
 * when the CRI plugin does not load.
 */
export function renderContainerdConfig(paths: ContainerdPaths, opts: ContainerdConfigOptions = {}): string {
  const runc = opts.runcBinary ?? '/usr/sbin/runc';
  const cri = "plugins.'io.containerd.cri.v1.runtime'";
  const runcRuntime = `${cri}.containerd.runtimes.runc`;
  return [
    'version = 3',
    `root = ${str(paths.root)}`,
    `state = ${str(paths.state)}`,
    `temp = ${str(paths.temp)}`,
    `disabled_plugins = ${strList(opts.disabledPlugins ?? DEFAULT_DISABLED_PLUGINS)}`,
    `required_plugins = ${strList(['io.containerd.grpc.v1.cri'])}`,
    '',
    '[grpc]',
    `  address = ${str(paths.address)}`,
    '',
    '[ttrpc]',
    `  address = ${str(`${paths.address}.ttrpc`)}`,
    '',
    '[debug]',
    `  level = "info"`,
    '',
    "[plugins.'io.containerd.internal.v1.opt']",
    `  path = ${str(paths.opt)}`,
    '',
    ...(paths.shimSocketDir === undefined
      ? []
      : ["[plugins.'io.containerd.shim.v1.manager']", `  socket_dir = ${str(paths.shimSocketDir)}`, '']),
    "[plugins.'io.containerd.nri.v1.nri']",
    '  disable = true',
    '',
    "[plugins.'io.containerd.cri.v1.images']",
    '  snapshotter = "overlayfs"',
    '',
    "[plugins.'io.containerd.cri.v1.images'.pinned_images]",
    `  sandbox = ${str(opts.sandboxImage ?? PAUSE_IMAGE)}`,
    '',
    `[${cri}]`,
    `  netns_mounts_under_state_dir = ${opts.netnsMountsUnderStateDir === true}`,
    `  restrict_oom_score_adj = ${opts.restrictOomScoreAdj !== false}`,
    '',
    `[${cri}.containerd]`,
    '  default_runtime_name = "runc"',
    '',
    `[${runcRuntime}]`,
    '  runtime_type = "io.containerd.runc.v2"',
    '',
    `[${runcRuntime}.options]`,
    `  BinaryName = ${str(runc)}`,
    `  Root = ${str(paths.runcRoot)}`,
    '  SystemdCgroup = false',
    '',
    `[${cri}.cni]`,
    `  bin_dirs = ${strList(opts.cniBinDirs ?? [paths.cniBinDir])}`,
    `  conf_dir = ${str(opts.cniConfDir ?? paths.cniConfDir)}`,
    '',
    "[plugins.'io.containerd.grpc.v1.cri']",
    '  disable_tcp_service = true',
    `  stream_server_address = ${str(opts.streamServerAddress ?? '127.0.0.1')}`,
    `  stream_server_port = ${str(String(opts.streamServerPort ?? 0))}`,
    '',
  ].join('\n');
}
