import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../../../common/log.js';
import { type GatedPod, type PodGate, PodGateError } from '../pod-gate.js';
import { cmdAdd } from './cmd-add.js';
import { cmdDel } from './cmd-del.js';
import type { CniContext } from './context.js';
import { CniError } from './errors.js';
import { ipamStatePath } from './ipam.js';
import { IpamSet } from './ipam-set.js';
import { AttachmentLock } from './keyed-lock.js';
import { hostVethName } from './names.js';
import type { PodAttachment } from './request.js';
import { testNetConf } from './test-fixtures.js';

const net = { nodeName: 'n1', podCIDRs: ['10.244.1.0/24'], clusterCIDRs: [], bridge: 'weft0', mtu: 1450 };
const conf = testNetConf();
const pod: PodAttachment = {
  containerId: 'ctr1',
  ifname: 'eth0',
  netns: '/var/run/netns/x',
  pod: { namespace: 'shop', name: 'web' },
};

/** cmdAdd over real IPAM state on disk, fake plumbing (veths by name) and a gate that answers `verdict`. */
async function setup(stateDir: string, verdict: () => Promise<void>) {
  const veths = new Set<string>();
  const admitted: GatedPod[] = [];
  const forgotten: string[] = [];
  const gate: PodGate = {
    admit: (p) => {
      admitted.push(p);
      return verdict();
    },
    forget: (a) => forgotten.push(a),
  };
  const ctx = {
    localNetwork: () => net,
    ipams: new IpamSet(stateDir),
    plumbing: {
      observeHostVeth: async (name: string) => veths.has(name),
      applyWiring: async (w: { hostVeth: string }) => void veths.add(w.hostVeth),
      deleteHostVeth: async (name: string) => veths.delete(name),
    },
    locks: new AttachmentLock(),
    podGate: gate,
    log: silentLogger(),
  } as unknown as CniContext;
  const onDisk = async () =>
    (JSON.parse(await readFile(ipamStatePath(stateDir, 'weft'), 'utf8')) as { allocations: unknown[] })
      .allocations;
  return { ctx, veths, admitted, forgotten, onDisk };
}

describe('cmdAdd with the pod gate', () => {
  const dirs: string[] = [];
  const tmp = async () => {
    const d = await mkdtemp(join(tmpdir(), 'weft-gate-'));
    dirs.push(d);
    return d;
  };
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('a refused pod: 11 with the reason, veth removed, address released on disk, overlay forgotten', async () => {
    const t = await setup(await tmp(), () =>
      Promise.reject(new PodGateError('EPOLICYNOTSYNCED', 'network policy not synced', 'the agent has not…')),
    );
    const err = await cmdAdd(t.ctx, conf, pod).then(
      () => assert.fail('ADD succeeded'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof CniError);
    assert.equal(err.cniCode, 11);
    assert.equal(err.message, 'try again later: network policy not synced');
    assert.equal(err.details, 'the agent has not…');
    assert.deepEqual(t.admitted, [
      { attachment: 'ctr1/eth0', namespace: 'shop', name: 'web', ips: ['10.244.1.2'] },
    ]);
    assert.deepEqual(t.forgotten, ['ctr1/eth0']);
    assert.equal(t.veths.size, 0, 'no veth left');
    assert.deepEqual(await t.onDisk(), [], 'no address left allocated');
  });

  it('an admitted pod keeps its address; a retried ADD after a refusal gets a clean start; DEL forgets', async () => {
    let refuse = true;
    const t = await setup(await tmp(), () =>
      refuse ? Promise.reject(new Error('not yet')) : Promise.resolve(),
    );
    await assert.rejects(cmdAdd(t.ctx, conf, pod), (e: unknown) => e instanceof CniError && e.cniCode === 11);
    refuse = false;
    const result = (await cmdAdd(t.ctx, conf, pod)) as { ips: { address: string }[] };
    assert.equal(result.ips[0]?.address, '10.244.1.3/24');
    assert.deepEqual(await t.onDisk(), [{ containerId: 'ctr1', ifname: 'eth0', ips: ['10.244.1.3'] }]);
    assert.ok(t.veths.has(hostVethName(pod)));
    await cmdDel(t.ctx, conf, pod);
    assert.deepEqual(t.forgotten, ['ctr1/eth0', 'ctr1/eth0']);
    assert.deepEqual(await t.onDisk(), []);
  });

  it('no K8S_* arguments: not a Kubernetes pod, no gate', async () => {
    const t = await setup(await tmp(), () => Promise.reject(new Error('must not be asked')));
    const { pod: _, ...plain } = pod;
    await cmdAdd(t.ctx, conf, plain);
    assert.equal(t.admitted.length, 0);
  });
});
