/** The argv pieces of `ctr run` and `ctr tasks exec` for an instance of containerd.ts (pure). */

export interface CtrRunSpec {
  /** Container id; also the last element of its cgroup path. */
  id: string;
  image: string;
  /** Replaces the image's entrypoint and command (ctr's semantics) when given. */
  args?: readonly string[];
  /** Share containerd's network namespace (the node's, here), as hostNetwork does. */
  netHost?: boolean;
  /** Start and return at once (`ctr run -d`). Without it ctr waits and exits with the container's status. */
  detach?: boolean;
  /** Delete the container when it exits (not with detach). */
  rm?: boolean;
  mounts?: readonly { source: string; target: string; readOnly?: boolean }[];
  env?: Readonly<Record<string, string>>;
  /** Join existing namespaces, e.g. a pod sandbox's PID namespace `/proc/<pid>/ns/pid`. */
  joinNamespaces?: readonly { type: 'pid' | 'ipc' | 'uts' | 'network'; path: string }[];
  /** Leave no_new_privs off (ctr sets it by default; it disables file capabilities). */
  allowNewPrivileges?: boolean;
  namespace?: string;
}

export interface CtrInstance {
  runcBinary: string;
  runcRoot: string;
  fifoDir: string;
  cgroupParent: string;
}

export function ctrRunArgs(spec: CtrRunSpec, inst: CtrInstance): string[] {
  const a = [
    'run',
    '--runc-binary',
    inst.runcBinary,
    '--runc-root',
    inst.runcRoot,
    '--fifo-dir',
    inst.fifoDir,
  ];
  a.push('--cgroup', `/${inst.cgroupParent}/${spec.id}`);
  if (spec.netHost === true) a.push('--net-host');
  if (spec.detach === true) a.push('--detach');
  if (spec.rm === true) a.push('--rm');
  for (const m of spec.mounts ?? []) {
    if (/[,=]/.test(m.source) || /[,=]/.test(m.target))
      throw new Error(`ctr --mount cannot name ${m.source}`);
    a.push(
      '--mount',
      `type=bind,src=${m.source},dst=${m.target},options=rbind:${m.readOnly === true ? 'ro' : 'rw'}`,
    );
  }
  for (const [k, v] of Object.entries(spec.env ?? {})) a.push('--env', `${k}=${v}`);
  for (const ns of spec.joinNamespaces ?? []) a.push('--with-ns', `${ns.type}:${ns.path}`);
  if (spec.allowNewPrivileges === true) a.push('--allow-new-privs');
  a.push(spec.image, spec.id, ...(spec.args ?? []));
  return a;
}

/** `ctr tasks exec` of argv in container `id`, waiting for it to end. */
export function ctrExecArgs(id: string, execId: string, argv: readonly string[], fifoDir: string): string[] {
  return ['tasks', 'exec', '--exec-id', execId, '--fifo-dir', fifoDir, id, ...argv];
}
