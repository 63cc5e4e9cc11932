/**
 * containerd 2.x configuration of a node (pure, TOML). Paths are the node's own view
 * (see node-view.ts): its own root, state and socket. runc from Debian with cgroupfs;
 * the sandbox image is the locally built pause image; CNI from the node's directories.
 */
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';

export function renderContainerdConfig(opts: { runcBinary: string; sandboxImage?: string }): string {
  const sandbox = opts.sandboxImage ?? PAUSE_IMAGE;
  return `version = 3
root = "/var/lib/containerd"
state = "/run/containerd"
disabled_plugins = ["io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "/run/containerd/containerd.sock"

[ttrpc]
  address = "/run/containerd/containerd.sock.ttrpc"

[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = "${sandbox}"

[plugins.'io.containerd.cri.v1.runtime']
  enable_selinux = false
  # Root here lacks CAP_SYS_RESOURCE: an oom_score_adj below containerd's own (kubelet gives
  # every sandbox -998) would make runc fail. Clamp instead, as rootless setups do.
  restrict_oom_score_adj = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = "runc"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        BinaryName = "${opts.runcBinary}"
        SystemdCgroup = false
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["/opt/cni/bin"]
    conf_dir = "/etc/cni/net.d"
    max_conf_num = 1
`;
}
