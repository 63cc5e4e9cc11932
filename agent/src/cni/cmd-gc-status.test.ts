import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../../common/log.js';
import { cmdGc } from './cmd-gc.js';
import { cmdStatus } from './cmd-status.js';
import type { CniContext } from './context.js';
import { CniError } from './errors.js';
import { AttachmentLock } from './keyed-lock.js';
import { hostVethName } from './names.js';
import { testNetConf } from './test-fixtures.js';

const net = { nodeName: 'n1', podCIDRs: ['10.244.1.0/24'], clusterCIDRs: [], bridge: 'weft0', mtu: 1450 };
const conf = testNetConf;
const keep = { containerId: 'keep', ifname: 'eth0' };
const stale = (i: number) => hostVethName({ containerId: `stale-${i}`, ifname: 'eth0' });

/** A CniContext over fakes: IPAM usage and release, host veths, and which deletes fail. */
function fakeContext(o: {
  allocated?: number;
  releaseFails?: boolean;
  failDelete?: ReadonlySet<string>;
  ready?: boolean;
}) {
  const deleted: string[] = [];
  const ipam = {
    usage: () => ({ allocated: o.allocated ?? 0, capacity: 253 }),
    releaseExcept: async () => {
      if (o.releaseFails) throw new Error('EROFS: read-only file system');
      return [];
    },
  };
  const ctx = {
    localNetwork: () => (o.ready === false ? undefined : net),
    ipams: { get: async () => ipam },
    plumbing: {
      listHostVeths: async () => [hostVethName(keep), stale(1), stale(2), stale(3)],
      deleteHostVeth: async (name: string) => {
        if (o.failDelete?.has(name)) throw new Error(`Cannot delete ${name}`);
        deleted.push(name);
        return true;
      },
    },
    locks: new AttachmentLock(),
    log: silentLogger(),
  };
  return { ctx: ctx as unknown as CniContext, deleted };
}

async function cniCode(p: Promise<unknown>): Promise<[number, string]> {
  const err = await p.then(
    () => assert.fail('expected a CNI error'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof CniError, String(err));
  return [err.cniCode, err.details];
}

describe('GC', () => {
  it('deletes every stale veth, keeping the valid ones', async () => {
    const { ctx, deleted } = fakeContext({});
    await cmdGc(ctx, conf([keep]));
    assert.deepEqual(deleted, [stale(1), stale(2), stale(3)]);
  });

  it('goes on after a failure and reports every failure (code 5)', async () => {
    const { ctx, deleted } = fakeContext({ releaseFails: true, failDelete: new Set([stale(2)]) });
    const [code, details] = await cniCode(cmdGc(ctx, conf([keep])));
    assert.equal(code, 5);
    assert.deepEqual(deleted, [stale(1), stale(3)], 'the veths after the failed one still go');
    assert.match(details, /releasing addresses: EROFS/);
    assert.match(details, new RegExp(`deleting ${stale(2)}: Cannot delete`));
  });

  it('refuses without a list of valid attachments (7) rather than remove everything', async () => {
    const { ctx, deleted } = fakeContext({});
    assert.equal((await cniCode(cmdGc(ctx, conf(undefined))))[0], 7);
    assert.deepEqual(deleted, []);
  });
});

describe('STATUS', () => {
  const cases: Array<[string, Parameters<typeof fakeContext>[0], RegExp | null]> = [
    ['ready with free addresses', { allocated: 10 }, null],
    ['the pod network not ready', { ready: false }, /podCIDR/],
    ['every address allocated', { allocated: 253 }, /all 253 addresses of 10\.244\.1\.0\/24/],
  ];
  for (const [what, o, want] of cases) {
    it(`${what}: ${want ? '50' : 'success'}`, async () => {
      const { ctx } = fakeContext(o);
      if (!want) return assert.equal(await cmdStatus(ctx, conf()), undefined);
      const [code, details] = await cniCode(cmdStatus(ctx, conf()));
      assert.equal(code, 50);
      assert.match(details, want);
    });
  }
});
