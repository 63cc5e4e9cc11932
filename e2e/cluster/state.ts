import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ClusterPlan } from './plan.js';
import type { ProcessRecord } from './processes.js';
import { ClusterError, type ResolvedClusterSpec } from './spec.js';

/**
 * What teardown needs after a crash, written to `<runDir>/state.json` before each
 * namespace or process is created, so that `down` can always undo `up`.
 */
export interface ClusterState {
  version: 1;
  spec: ResolvedClusterSpec;
  plan: ClusterPlan;
  binDir: string;
  phase: 'starting' | 'running' | 'failed';
  namespaces: string[];
  processes: ProcessRecord[];
  adminPort?: number;
  /** Set before the kubelet tunables are changed: teardown must then restore them. */
  kernelTunables?: boolean;
}

export function readClusterState(stateFile: string): ClusterState | undefined {
  if (!existsSync(stateFile)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(stateFile, 'utf8'));
  } catch (err) {
    throw new ClusterError('ESTATE', `state file ${stateFile} is not valid JSON`, { cause: err });
  }
  const s = parsed as Partial<ClusterState>;
  if (s.version !== 1 || !Array.isArray(s.namespaces) || !Array.isArray(s.processes) || !s.plan) {
    throw new ClusterError(
      'ESTATE',
      `state file ${stateFile} has an unknown layout (field version/namespaces/processes/plan)`,
    );
  }
  return s as ClusterState;
}

/**
 * The one writer of a cluster's state file. Every change re-reads the file, applies the
 * change and renames a complete new file over it, so a crash never leaves half a record
 * and handles in other processes (CLI `up` then a test attaching) do not lose entries.
 */
export class ClusterStateStore {
  constructor(readonly stateFile: string) {}

  read(): ClusterState | undefined {
    return readClusterState(this.stateFile);
  }

  init(state: ClusterState): void {
    this.write(state);
  }

  update(change: (s: ClusterState) => void): ClusterState {
    const s = this.read();
    if (!s) throw new ClusterError('ESTATE', `state file ${this.stateFile} is missing`);
    change(s);
    this.write(s);
    return s;
  }

  private write(s: ClusterState): void {
    mkdirSync(dirname(this.stateFile), { recursive: true, mode: 0o700 });
    const tmp = `${this.stateFile}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(s, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.stateFile);
  }
}
