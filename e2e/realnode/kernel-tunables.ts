import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ClusterError } from '../cluster/spec.js';

/**
 * The three machine-wide kernel tunables kubelet insists on. They are the only thing of
 * the machine a real-node cluster changes: set before the first kubelet starts, restored
 * when the last real-node cluster on the machine is torn down (also by `down` after a
 * crash), from a record written before anything is changed.
 */
export const KUBELET_TUNABLES: Readonly<Record<string, string>> = {
  'vm.overcommit_memory': '1',
  'kernel.panic': '10',
  'kernel.panic_on_oops': '1',
};

interface TunablesRecord {
  original: Record<string, string>;
  holders: string[];
}

export interface TunablesIo {
  read(key: string): string;
  write(key: string, value: string): void;
}

const procSys = (key: string) => join('/proc/sys', ...key.split('.'));
export const PROC_SYS: TunablesIo = {
  read: (key) => readFileSync(procSys(key), 'utf8').trim(),
  write: (key, value) => writeFileSync(procSys(key), `${value}\n`),
};

/**
 * One record for the whole machine, whatever the clusters' run roots: a second cluster must
 * not take the first one's values for the machine's. In /run, which is as volatile as the
 * tunables themselves (both reset at boot).
 */
export const TUNABLES_RECORD = process.env.WEFT_TUNABLES_RECORD ?? '/run/weft-e2e-kernel-tunables.json';

function readRecord(file: string): TunablesRecord | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as TunablesRecord;
    if (typeof r.original !== 'object' || !Array.isArray(r.holders)) throw new Error('layout');
    return r;
  } catch (err) {
    throw new ClusterError('ESTATE', `${file} is not a kernel tunables record; restore by hand`, {
      cause: err,
    });
  }
}

function writeRecord(file: string, r: TunablesRecord): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(`${file}.tmp`, `${JSON.stringify(r, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

/** Records the current values (first holder only), then sets kubelet's. */
export function acquireKubeletTunables(
  holder: string,
  io: TunablesIo = PROC_SYS,
  file = TUNABLES_RECORD,
): void {
  const rec = readRecord(file) ?? {
    original: Object.fromEntries(Object.keys(KUBELET_TUNABLES).map((k) => [k, io.read(k)])),
    holders: [],
  };
  if (!rec.holders.includes(holder)) rec.holders.push(holder);
  writeRecord(file, rec);
  for (const [k, v] of Object.entries(KUBELET_TUNABLES)) {
    if (io.read(k) !== v) io.write(k, v);
  }
}

/** Drops `holder`; the last one out restores the recorded values and removes the record. */
export function releaseKubeletTunables(
  holder: string,
  io: TunablesIo = PROC_SYS,
  file = TUNABLES_RECORD,
): void {
  const rec = readRecord(file);
  if (!rec) return;
  rec.holders = rec.holders.filter((h) => h !== holder);
  if (rec.holders.length > 0) {
    writeRecord(file, rec);
    return;
  }
  for (const [k, v] of Object.entries(rec.original)) {
    if (io.read(k) !== v) io.write(k, v);
  }
  rmSync(file, { force: true });
}
