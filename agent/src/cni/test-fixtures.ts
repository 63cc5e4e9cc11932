import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { WeftNetConf } from './netconf.js';

/** A parsed network config for the CNI commands' tests: spec 1.1.0, no prevResult. */
export function testNetConf(validAttachments?: WeftNetConf['validAttachments']): WeftNetConf {
  return {
    cniVersion: '1.1.0',
    name: 'weft',
    type: 'weft',
    socket: undefined,
    prevResult: undefined,
    validAttachments,
  };
}

/** Temp dirs for the tests of the calling suite, removed after it: `const freshDir = tempDirs('wtcni-x-')`. */
export function tempDirs(prefix: string): () => Promise<string> {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  return async () => {
    const d = await mkdtemp(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
}
