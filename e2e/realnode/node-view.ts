import { join } from 'node:path';

/**
 * The filesystem a real node's processes see (pure). Each node runs containerd, kubelet
 * and kube-proxy in a mount namespace of its own, entered through a holder process, in
 * which:
 * - /etc, /opt and /var are overlays: the machine's directories below, the node's own
 *   upper layer above, so the node can create /etc/cni/net.d, /opt/cni/bin, /var/lib/weft
 *   … without one byte changing on the machine;
 * - /run is the node's own directory (containerd's socket, /run/weft, /run/netns of its
 *   pods, xtables.lock);
 * - /var/lib/containerd and /var/lib/kubelet are real directories of the node (containerd's
 *   overlayfs snapshots cannot live on an overlay upper layer);
 * - /etc/cni/net.d and /opt/cni/bin are the node's own directories, not merged with the
 *   machine's: a CNI config of the machine (podman's, say) must not make a node Ready
 *   before Weft has written its own;
 * - everything is made rshared inside the namespace (as kind does in its node containers), so
 *   that containers' HostToContainer volumes (the agent's /var/run/netns) see new mounts.
 * The namespace starts private: nothing mounted in it reaches the machine, and it all goes
 * when its last process exits.
 */
export interface NodeView {
  root: string;
  /** Host-side paths of what the node sees at /run, /var/lib/containerd, /var/lib/kubelet. */
  run: string;
  containerd: string;
  kubelet: string;
  cniConf: string;
  cniBin: string;
  overlays: { target: string; upper: string; work: string }[];
  /** Touched by the holder once every mount is in place. */
  readyFile: string;
  /** Host-side path of the node's containerd socket (crictl/ctr from the machine). */
  containerdSocket: string;
  /** What the node sees at /etc, /opt and /var, from the machine (the overlay upper layers). */
  hostPath: (nodePath: string) => string;
}

export const OVERLAID = ['/etc', '/opt', '/var'] as const;
export const NODE_CONTAINERD_SOCKET = '/run/containerd/containerd.sock';

export function computeNodeView(nodeRoot: string): NodeView {
  const fs = join(nodeRoot, 'fs');
  const run = join(nodeRoot, 'run');
  return {
    root: nodeRoot,
    run,
    containerd: join(nodeRoot, 'containerd'),
    kubelet: join(nodeRoot, 'kubelet'),
    cniConf: join(nodeRoot, 'cni/net.d'),
    cniBin: join(nodeRoot, 'cni/bin'),
    overlays: OVERLAID.map((target) => ({
      target,
      upper: join(fs, `${target.slice(1)}.upper`),
      work: join(fs, `${target.slice(1)}.work`),
    })),
    readyFile: join(nodeRoot, 'view.ready'),
    containerdSocket: join(run, 'containerd/containerd.sock'),
    hostPath(nodePath: string): string {
      for (const [at, dir] of [
        ['/etc/cni/net.d', join(nodeRoot, 'cni/net.d')],
        ['/opt/cni/bin', join(nodeRoot, 'cni/bin')],
      ] as const) {
        if (nodePath === at || nodePath.startsWith(`${at}/`)) return join(dir, nodePath.slice(at.length));
      }
      if (nodePath === '/run' || nodePath.startsWith('/run/')) return join(run, nodePath.slice(4));
      const top = OVERLAID.find((t) => nodePath === t || nodePath.startsWith(`${t}/`));
      if (!top) throw new Error(`${nodePath} is not inside the node's own layers (/etc, /opt, /var, /run)`);
      return join(fs, `${top.slice(1)}.upper`, nodePath.slice(top.length));
    },
  };
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The shell script the holder runs inside its fresh mount and UTS namespaces (pure). With a
 * hostname, the node's UTS namespace gets it: a real node's hostname is its node name, which
 * hostNetwork pods report (the e2e suite's netexec `hostname` answers are compared with node
 * names).
 */
export function nodeViewScript(v: NodeView, hostname?: string): string {
  const lines = ['set -eu'];
  if (hostname !== undefined) lines.push(`hostname ${q(hostname)}`);
  for (const o of v.overlays) {
    lines.push(
      `mkdir -p ${q(o.upper)} ${q(o.work)}`,
      `mount -t overlay overlay -o ${q(`lowerdir=${o.target},upperdir=${o.upper},workdir=${o.work}`)} ${o.target}`,
    );
  }
  lines.push(
    `mkdir -p ${q(v.run)} ${q(v.containerd)} ${q(v.kubelet)} ${q(v.cniConf)} ${q(v.cniBin)}`,
    `mount --bind ${q(v.run)} /run`,
    'mkdir -p /var/lib/containerd /var/lib/kubelet /run/netns /etc/cni/net.d /opt/cni/bin',
    `mount --bind ${q(v.containerd)} /var/lib/containerd`,
    `mount --bind ${q(v.kubelet)} /var/lib/kubelet`,
    `mount --bind ${q(v.cniConf)} /etc/cni/net.d`,
    `mount --bind ${q(v.cniBin)} /opt/cni/bin`,
    'mount --make-rshared /',
    `touch ${q(v.readyFile)}`,
    'exec sleep infinity',
  );
  return `${lines.join('\n')}\n`;
}

/**
 * argv of the holder: enter the node's network namespace, then a new private mount namespace
 * and a UTS namespace whose hostname is the node's name.
 */
export function holderArgv(netns: string, v: NodeView, hostname: string): string[] {
  return [
    'nsenter',
    `--net=/run/netns/${netns}`,
    '--',
    'unshare',
    '--mount',
    '--uts',
    '--propagation',
    'private',
    '--',
    'sh',
    '-c',
    nodeViewScript(v, hostname),
  ];
}

/**
 * argv that runs `argv` in the holder's mount, UTS and network namespaces (nsenter and env
 * exec in place, so the pid is the command's), with `path` as its PATH: the argv alone
 * restarts it.
 */
export function inNodeArgv(holderPid: number, argv: readonly string[], path?: string): string[] {
  const env = path === undefined ? [] : ['env', `PATH=${path}`];
  return ['nsenter', '-t', String(holderPid), '-m', '-u', '-n', '--', ...env, ...argv];
}
