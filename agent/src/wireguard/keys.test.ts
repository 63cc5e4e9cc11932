import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { WireguardError } from './errors.js';
import {
  isWireguardKey,
  KEY_FILE,
  loadOrCreateNodeKey,
  parsePublicKey,
  rotateNodeKey,
  WireguardKeyPair,
} from './keys.js';

// RFC 7748 §6.1: Alice's private and public key.
const ALICE_PRIVATE = Buffer.from(
  '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
  'hex',
).toString('base64');
const ALICE_PUBLIC = Buffer.from(
  '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
  'hex',
).toString('base64');

const wgInstalled = spawnSync('wg', ['--version']).status === 0;

describe('WireGuard node keys', () => {
  // One scratch directory for the suite; every test takes a fresh subdirectory of it.
  let root: string | undefined;
  let seq = 0;
  const tmp = async () => {
    root ??= await mkdtemp(join(tmpdir(), 'weft-wgkey-'));
    const dir = join(root, `t${seq++}`);
    await mkdir(dir);
    return dir;
  };
  after(() => (root === undefined ? undefined : rm(root, { recursive: true, force: true })));

  it('derives the public key as X25519 does (RFC 7748 test vector)', () => {
    assert.equal(WireguardKeyPair.fromPrivateKey(ALICE_PRIVATE).publicKey, ALICE_PUBLIC);
  });

  it('generates clamped 32-byte keys in wg format', () => {
    const k = WireguardKeyPair.generate();
    assert.ok(isWireguardKey(k.privateKeyText()) && isWireguardKey(k.publicKey));
    const raw = Buffer.from(k.privateKeyText(), 'base64');
    assert.equal((raw[0] ?? 0) & 7, 0);
    assert.equal((raw[31] ?? 0) & 0xc0, 0x40);
    assert.notEqual(WireguardKeyPair.generate().publicKey, k.publicKey);
  });

  it('never shows the private key when printed, logged or serialised', () => {
    const k = WireguardKeyPair.fromPrivateKey(ALICE_PRIVATE);
    for (const text of [String(k), `${k}`, JSON.stringify({ k }), inspect(k), inspect({ nested: [k] })]) {
      assert.ok(!text.includes(ALICE_PRIVATE), text);
      assert.ok(text.includes(ALICE_PUBLIC) && text.includes('redacted'), text);
    }
  });

  it('agrees with `wg pubkey` (wireguard-tools)', { skip: !wgInstalled && 'wg is not installed' }, () => {
    for (const k of [WireguardKeyPair.generate(), WireguardKeyPair.fromPrivateKey(ALICE_PRIVATE)]) {
      const r = spawnSync('wg', ['pubkey'], { input: `${k.privateKeyText()}\n`, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), k.publicKey);
    }
  });

  it('rejects what is not 32 bytes of canonical base64', () => {
    for (const bad of [
      '',
      'abc',
      `${ALICE_PUBLIC}x`,
      ALICE_PUBLIC.replace('=', 'A'),
      `${'A'.repeat(42)}B=`,
      42,
    ]) {
      assert.throws(
        () => parsePublicKey(bad),
        (e: unknown) => e instanceof WireguardError && e.code === 'EBADKEY',
      );
    }
    assert.equal(parsePublicKey(ALICE_PUBLIC), ALICE_PUBLIC);
  });

  it('generates the key on first start (0600, wg format) and keeps it after', async () => {
    const dir = join(await tmp(), 'state');
    const first = await loadOrCreateNodeKey(dir);
    assert.equal(first.created, true);
    assert.equal(first.path, join(dir, KEY_FILE));
    assert.equal((await stat(first.path)).mode & 0o777, 0o600);
    assert.equal((await readFile(first.path, 'utf8')).trim(), first.key.privateKeyText());
    const again = await loadOrCreateNodeKey(dir);
    assert.equal(again.created, false);
    assert.equal(again.key.publicKey, first.key.publicKey);
    const rotated = await rotateNodeKey(dir);
    assert.notEqual(rotated.key.publicKey, first.key.publicKey);
    assert.equal((await loadOrCreateNodeKey(dir)).key.publicKey, rotated.key.publicKey);
  });

  it('refuses a malformed key file, names it, and leaves it untouched', async () => {
    const dir = await tmp();
    const path = join(dir, KEY_FILE);
    await writeFile(path, 'not a key\n', { mode: 0o600 });
    await assert.rejects(
      loadOrCreateNodeKey(dir),
      (e: unknown) => e instanceof WireguardError && e.code === 'EKEYFILE' && e.message.includes(path),
    );
    assert.equal(await readFile(path, 'utf8'), 'not a key\n');
  });

  it('tightens a key file readable by others to 0600', async () => {
    const dir = await tmp();
    const path = join(dir, KEY_FILE);
    await writeFile(path, `${ALICE_PRIVATE}\n`, { mode: 0o644 });
    const k = await loadOrCreateNodeKey(dir);
    assert.equal(k.key.publicKey, ALICE_PUBLIC);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
  });
});
