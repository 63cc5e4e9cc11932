import { formatIpv4, parseCidr } from '../../../common/cidr.js';

/** Inclusive IPv4 ranges [start, end] as unsigned numbers. */
export type Range = readonly [number, number];

export function cidrRange(cidr: string): Range {
  const c = parseCidr(cidr, false);
  return [c.network, c.network + 2 ** (32 - c.prefix) - 1];
}

/** Sorted, non-overlapping, non-adjacent ranges covering the same addresses. */
export function mergeRanges(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [s, e] of sorted) {
    const last = out.at(-1);
    if (last && s <= last[1] + 1) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

/** `ranges` minus `holes` (both any shape); the result is merged. */
export function subtractRanges(ranges: readonly Range[], holes: readonly Range[]): Range[] {
  let rest = mergeRanges(ranges);
  for (const [hs, he] of mergeRanges(holes)) {
    const next: Range[] = [];
    for (const [s, e] of rest) {
      if (he < s || hs > e) next.push([s, e]);
      else {
        if (s < hs) next.push([s, hs - 1]);
        if (he < e) next.push([he + 1, e]);
      }
    }
    rest = next;
  }
  return rest;
}

/** The fewest CIDRs that cover a range exactly. */
export function rangeToCidrs([start, end]: Range): string[] {
  const out: string[] = [];
  let at = start;
  while (at <= end) {
    let size = at === 0 ? 2 ** 32 : 2 ** Math.min(32, countTrailingZeros(at));
    while (at + size - 1 > end) size /= 2;
    out.push(`${formatIpv4(at)}/${32 - Math.log2(size)}`);
    at += size;
  }
  return out;
}

function countTrailingZeros(n: number): number {
  let z = 0;
  while (z < 32 && n % 2 ** (z + 1) === 0) z++;
  return z;
}

/** Interval-set elements for ranges: merged, as the fewest CIDRs, sorted as text. */
export function rangesToElements(ranges: readonly Range[]): string[] {
  return mergeRanges(ranges).flatMap(rangeToCidrs).sort();
}
