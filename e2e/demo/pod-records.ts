/**
 * The demo's pods, written next to the cluster's state so that `down` can run CNI DEL
 * for each of them — also from a fresh process, after `up` has exited or crashed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster } from '../cluster/index.js';
import type { Pod } from '../cluster/pods.js';

export interface PodRecord {
  readonly node: string;
  readonly id: string;
  readonly netns: string;
  readonly ip: string;
  readonly attachment: Pod['attachment'];
  readonly result: Pod['result'];
}

export const podRecordsPath = (runDir: string) => join(runDir, 'demo-pods.json');

export function savePodRecords(runDir: string, pods: readonly Pod[]): void {
  const records: PodRecord[] = pods.map((p) => ({
    node: p.node.name,
    id: p.id,
    netns: p.netns,
    ip: p.ip,
    attachment: p.attachment,
    result: p.result,
  }));
  writeFileSync(podRecordsPath(runDir), `${JSON.stringify(records, null, 2)}\n`);
}

/** The recorded pods as Pods of `cluster` ([] when there is no record or it is unreadable). */
export function loadPods(cluster: Cluster): Pod[] {
  let records: PodRecord[];
  try {
    records = JSON.parse(readFileSync(podRecordsPath(cluster.runDir), 'utf8')) as PodRecord[];
  } catch {
    return [];
  }
  return records.flatMap((r) => {
    const node = cluster.nodes.find((n) => n.name === r.node);
    return node ? [{ ...r, node }] : [];
  });
}
