import assert from 'node:assert/strict';
import type { TestNode } from './datapath-topology.js';
import { addVethPair, type NetnsSet, nsIpBatch, nsRun, run } from './netns-helpers.js';

/**
 * IPv6 pods and probes for namespace tests: a pod on a node's bridge, pings, and a pod-side
 * count of echo requests by source address, so that a rewritten source shows.
 */

/**
 * Pod <n> on `node`'s bridge: fd00:10:244:<n>::5 (and 10.244.<n>.5 with `ipv4`), default routes
 * via the bridge's addresses, an echo counter.
 */
export async function addPod(
  set: NetnsSet,
  node: TestNode,
  n: number,
  opts: { readonly mtu: number; readonly ipv4: boolean },
): Promise<string> {
  const pod = await set.create(`pod${n}`);
  await addVethPair(node.ns, 'vpod', pod, 'eth0');
  await nsIpBatch(node.ns, [`link set vpod mtu ${opts.mtu}`, 'link set vpod master weft0']);
  const v4 = [`addr add 10.244.${n}.5/24 dev eth0`, `route add default via 10.244.${n}.1`];
  await nsIpBatch(pod, [
    `link set eth0 mtu ${opts.mtu}`,
    ...(opts.ipv4 ? v4 : []),
    `addr add fd00:10:244:${n}::5/64 dev eth0 nodad`,
    `route add default via fd00:10:244:${n}::1`,
  ]);
  await addEchoCounter(pod);
  return pod;
}

/** Table `inet seen` in `pod`, whose chain counts echo requests by source (echoesFrom adds the rules). */
export async function addEchoCounter(pod: string): Promise<void> {
  await run(
    'ip',
    ['netns', 'exec', pod, 'nft', '-f', '-'],
    'table inet seen {\n  chain in {\n    type filter hook input priority 0; policy accept;\n  }\n}\n',
  );
}

/** Echo requests `pod` received from `src` (a counter rule added on first use). */
export async function echoesFrom(pod: string, src: string): Promise<number> {
  const rules = await nsRun(pod, 'nft', ['-j', 'list', 'chain', 'inet', 'seen', 'in']);
  if (!rules.includes(`"${src}"`)) {
    await nsRun(pod, 'nft', [
      'add',
      'rule',
      'inet',
      'seen',
      'in',
      'ip6',
      'saddr',
      src,
      'icmpv6',
      'type',
      'echo-request',
      'counter',
    ]);
    return 0;
  }
  const doc = JSON.parse(rules) as { nftables: { rule?: { expr: Record<string, unknown>[] } }[] };
  for (const item of doc.nftables) {
    const expr = item.rule?.expr ?? [];
    if (!JSON.stringify(expr).includes(`"${src}"`)) continue;
    const counter = expr.find((e) => 'counter' in e)?.counter as { packets: number } | undefined;
    return counter?.packets ?? 0;
  }
  return 0;
}

/**
 * Waits until no address in `namespaces` is tentative (duplicate address detection, 1 s after a
 * device gets its carrier). Until then a node cannot solicit neighbours for packets it forwards
 * (it needs a usable link-local source), so the first forwarded packets wait a second or two.
 */
export async function dadDone(namespaces: readonly string[]): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const left = await Promise.all(
      namespaces.map((ns) => run('ip', ['-n', ns, '-6', 'addr', 'show', 'tentative'])),
    );
    if (left.every((t) => t.trim() === '')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('IPv6 addresses still tentative after 10 s');
}

/** One ping over IPv6 answered within 2 s; `extra` ping options (e.g. `-M do -s 1382`). */
export async function ping6(from: string, to: string, extra: readonly string[] = []): Promise<boolean> {
  try {
    await nsRun(from, 'ping', ['-6', '-c', '1', '-W', '2', ...extra, to]);
    return true;
  } catch {
    return false;
  }
}

/** `from` reaches `to` over IPv6 and `toPod` saw the echo with source `src` (not rewritten). */
export async function assertPing6(from: string, to: string, toPod: string, src: string): Promise<void> {
  const before = await echoesFrom(toPod, src);
  assert.ok(await ping6(from, to), `${from} cannot ping -6 ${to}`);
  assert.equal(await echoesFrom(toPod, src), before + 1, `${toPod} did not see ${src} as the source`);
}

/**
 * Pods 1–3 (fd00:10:244:<n>::5) reach each other, each source kept: 1↔2, 1↔3, 3→2; and the host
 * `host1` of pod 1 reaches pod 3 from `hostSrc` (by default its VTEP address fd00:10:244:1::),
 * the answer back through the tunnel.
 */
export async function assertPodMesh6(
  pods: readonly string[],
  host1: string,
  hostSrc = 'fd00:10:244:1::',
): Promise<void> {
  const [p1, p2, p3] = pods as [string, string, string];
  const pod6 = (n: number) => `fd00:10:244:${n}::5`;
  await assertPing6(p1, pod6(2), p2, pod6(1));
  await assertPing6(p2, pod6(1), p1, pod6(2));
  await assertPing6(p1, pod6(3), p3, pod6(1));
  await assertPing6(p3, pod6(1), p1, pod6(3));
  await assertPing6(p3, pod6(2), p2, pod6(3));
  await assertPing6(host1, pod6(3), p3, hostSrc);
}
