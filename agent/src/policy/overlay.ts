import { canonicalPodIp } from './parse.js';
import { type PolicyPod, refOf } from './types.js';

/** Addresses CNI ADD gave a pod of this node, before the watch reports them (ADR 13 point 3). */
export interface PodOverlay {
  readonly namespace: string;
  readonly name: string;
  readonly ips: readonly string[];
}

/**
 * Pure: the pods as compilation sees them with the overlay on top. A pod with
 * overlay entries has exactly their addresses (in the watch's order where the
 * watch has them) and runs on this node; an address an overlay claims is taken
 * from every other pod (the watch can still show a released address on its old
 * pod). Once the watch reports the same addresses the overlay changes nothing.
 * Overlay entries whose Pod is not in `pods` are left out (no labels to match).
 */
export function computeOverlaidPods(
  pods: Iterable<PolicyPod>,
  overlay: Iterable<PodOverlay>,
  nodeName: string,
): PolicyPod[] {
  const byPod = new Map<string, Set<string>>();
  const claimed = new Set<string>();
  for (const o of overlay) {
    const ips = byPod.get(refOf(o)) ?? new Set<string>();
    for (const text of o.ips) {
      // The watch's addresses are canonical; ADD's must be too to compare equal.
      const ip = canonicalPodIp(text);
      if (ip === undefined) continue;
      ips.add(ip);
      claimed.add(ip);
    }
    byPod.set(refOf(o), ips);
  }
  const out: PolicyPod[] = [];
  for (const pod of pods) {
    const mine = byPod.get(refOf(pod));
    if (mine) {
      const ips = [
        ...pod.ips.filter((ip) => mine.has(ip)),
        ...[...mine].filter((ip) => !pod.ips.includes(ip)),
      ];
      out.push({ ...pod, ips, node: nodeName });
    } else if (pod.ips.some((ip) => claimed.has(ip))) {
      out.push({ ...pod, ips: pod.ips.filter((ip) => !claimed.has(ip)) });
    } else out.push(pod);
  }
  return out;
}
