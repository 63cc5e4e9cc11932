import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { hostTools, parseHostTools, requireHostTools } from './host-tools.js';

describe('host tools list', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-host-tools-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('parses "command package" lines and refuses malformed or repeated ones', () => {
    const t = parseHostTools('# c\nip iproute2\n\nsockperf   sockperf # pinned\n');
    assert.deepEqual(
      [...t],
      [
        ['ip', 'iproute2'],
        ['sockperf', 'sockperf'],
      ],
    );
    assert.throws(() => parseHostTools('ip\n'), /line 1: want "command package"/);
    assert.throws(() => parseHostTools('ip a\nip b\n'), /line 2: ip is listed twice/);
  });

  it('a tool not on the list fails even when it is installed; a listed one missing names its package', () => {
    const tools = parseHostTools('present pkg-a\nabsent pkg-b\n');
    writeFileSync(join(dir, 'present'), '#!/bin/sh\n');
    chmodSync(join(dir, 'present'), 0o755);
    writeFileSync(join(dir, 'handmade'), '#!/bin/sh\n');
    chmodSync(join(dir, 'handmade'), 0o755);
    assert.doesNotThrow(() => requireHostTools(['present'], tools, dir));
    assert.throws(
      () => requireHostTools(['handmade'], tools, dir),
      (e: Error & { code?: string }) =>
        e.code === 'EUNLISTEDTOOL' &&
        /handmade is used but not listed in scripts\/host-tools.txt/.test(e.message),
    );
    assert.throws(
      () => requireHostTools(['absent'], tools, dir),
      (e: Error & { code?: string }) =>
        e.code === 'EMISSINGTOOL' && /absent is not installed \(Debian package pkg-b\)/.test(e.message),
    );
  });

  it('the shipped list names the benchmark and harness tools', () => {
    const t = hostTools();
    for (const cmd of ['ip', 'nft', 'iperf3', 'sockperf', 'taskset', 'nsenter', 'podman']) {
      assert.ok(t.has(cmd), `${cmd} missing from scripts/host-tools.txt`);
    }
  });
});
