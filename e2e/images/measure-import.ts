/**
 * Measures importing the node images into several nodes at once, the way the real-node
 * harness does it: N throwaway containerds (each in its own network namespace), all archives
 * of e2e/images/build.sh imported into each, the nodes in parallel. Prints the times and each
 * node's disk use, then removes everything (also on failure or Ctrl-C).
 *
 *   node dist/e2e/images/measure-import.js [--nodes 3] [--unpack] [--dir <archives>] [--under /tmp]
 *
 * --under: where the nodes' containerd dirs go (e.g. /dev/shm to see what a tmpfs root gives).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runChecked } from '../cluster/exec.js';
import { addNetns, deleteNetns } from '../cluster/netns.js';
import { resolveNodeBinDir } from '../nodebin/bins.js';
import { Containerd } from './containerd.js';
import { importNodeImages, readNodeImageArchives } from './import.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    unpack: { type: 'boolean', default: false },
    dir: { type: 'string', default: process.env.WEFT_NODE_IMAGES_DIR ?? '/var/cache/weft-image/node-images' },
    under: { type: 'string', default: '/tmp' },
  },
});
const count = Number(values.nodes);
if (!Number.isInteger(count) || count < 1 || count > 10) throw new Error('--nodes must be 1..10');

const archives = readNodeImageArchives(values.dir);
const binDir = await resolveNodeBinDir();
const tag = randomBytes(3).toString('hex');
const tmp = mkdtempSync(join(values.under, 'wimg-measure-'));
const netnses: string[] = [];
const nodes: Containerd[] = [];

async function cleanup(): Promise<void> {
  for (const c of nodes.splice(0)) await c.stop().catch((err: unknown) => console.error(err));
  for (const ns of netnses.splice(0)) await deleteNetns(ns);
  rmSync(tmp, { recursive: true, force: true });
}
process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));

try {
  for (let i = 0; i < count; i++) {
    const netns = `weft-imgm-${tag}-${i}`;
    await addNetns(netns);
    netnses.push(netns);
    nodes.push(await Containerd.start({ dir: join(tmp, String(i)), binDir, netns, cgroupParent: netns }));
  }
  const mb = archives.reduce((s, a) => s + a.bytes, 0) / 1e6;
  console.log(
    `${archives.length} archives, ${mb.toFixed(0)} MB, into ${count} nodes, unpack=${values.unpack}`,
  );
  const t0 = performance.now();
  const results = await Promise.all(
    nodes.map((c) => importNodeImages(c.endpoint, archives, { unpack: values.unpack })),
  );
  console.log(`all nodes: ${Math.round(performance.now() - t0)} ms`);
  for (const [i, r] of results.entries()) {
    const du = (await runChecked(['du', '-sm', nodes[i]?.paths.root ?? ''])).split('\t')[0];
    console.log(`node ${i}: ${r.map((x) => `${x.name} ${x.durationMs} ms`).join(', ')}; root ${du} MB`);
  }
} finally {
  await cleanup();
}
