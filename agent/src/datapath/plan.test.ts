import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { desiredDatapath } from './desired.js';
import { type PlanOp, planDatapath } from './plan.js';
import type { DatapathState, DesiredDatapath, RouteState } from './state.js';
import { EMPTY_STATE, testConfig } from './test-fixtures.js';
import type { PeerNode } from './types.js';

const config = testConfig('auto');
const self = { name: 'n1', underlayIP: '192.168.71.1', podCIDRs: ['10.244.1.0/24'] };
const n2: PeerNode = { name: 'n2', underlayIP: '192.168.71.2', podCIDRs: ['10.244.2.0/24'] };
const n3: PeerNode = { name: 'n3', underlayIP: '192.168.72.3', podCIDRs: ['10.244.3.0/24'] };
const underlay = { iface: 'eth0', mtu: 1500, subnets: ['192.168.71.0/24'] };

const desired = (peers: PeerNode[], cfg = config): DesiredDatapath =>
  desiredDatapath(self, peers, cfg, underlay);

/** The kernel exactly as desired, as observe would read it. */
function kernelOf(d: DesiredDatapath, change: Partial<DatapathState> = {}): DatapathState {
  const { bridge, vxlan, routes, replyRoutes, rules, neighbours, fdb, sysctls, nft } = d;
  return { bridge, vxlan, routes, replyRoutes, rules, neighbours, fdb, sysctls, nft, ...change };
}

const ops = (plan: PlanOp[]) => plan.map((o) => o.op);
const empty = EMPTY_STATE;

describe('planDatapath', () => {
  it('is empty when the kernel matches', () => {
    const d = desired([n2, n3]);
    assert.deepEqual(planDatapath(d, kernelOf(d)), []);
  });

  it('creates everything on an empty kernel, devices before addresses before entries', () => {
    const plan = planDatapath(desired([n2, n3]), empty);
    assert.deepEqual(ops(plan), [
      'bridge-add',
      'vxlan-add',
      'link-up',
      'link-up',
      'addr-add',
      'addr-add',
      'neigh-replace',
      'route-add',
      'route-add',
      'route-add',
      'rule-add',
      'fdb-replace',
      'sysctl',
      'sysctl',
      'nft-replace',
    ]);
  });

  it('deletes a stale route carrying our protocol and keeps the rest', () => {
    const d = desired([n2]);
    const stray: RouteState = {
      dst: '10.244.99.0/24',
      gateway: '192.168.71.9',
      dev: 'eth0',
      onlink: false,
      metric: 0,
    };
    const plan = planDatapath(d, kernelOf(d, { routes: [...d.routes, stray] }));
    assert.deepEqual(plan, [{ op: 'route-del', route: stray }]);
  });

  it('replaces a route with a wrong gateway in place', () => {
    const d = desired([n2]);
    const wrong = d.routes.map((r) => ({ ...r, gateway: '192.168.71.254' }));
    const plan = planDatapath(d, kernelOf(d, { routes: wrong }));
    assert.deepEqual(plan, [{ op: 'route-replace', route: d.routes[0] }]);
  });

  it('re-adds a missing route and drops a duplicate at another metric', () => {
    const d = desired([n2]);
    const [r] = d.routes;
    assert.ok(r);
    const dup = { ...r, metric: 5 };
    assert.deepEqual(ops(planDatapath(d, kernelOf(d, { routes: [] }))), ['route-add']);
    assert.deepEqual(planDatapath(d, kernelOf(d, { routes: [r, dup] })), [{ op: 'route-del', route: dup }]);
  });

  it("deletes a removed peer's route, neighbour and FDB entry", () => {
    const before = desired([n2, n3]);
    const plan = planDatapath(desired([n2]), kernelOf(before));
    assert.deepEqual(ops(plan), ['route-del', 'route-del', 'neigh-del', 'fdb-del']);
    assert.ok(
      plan.every(
        (o) => JSON.stringify(o).includes('10.244.3.0') || JSON.stringify(o).includes('c0:a8:48:03'),
      ),
    );
  });

  it('fixes a neighbour or FDB entry that points elsewhere', () => {
    const d = desired([n3]);
    const neighbours = d.neighbours.map((n) => ({ ...n, mac: '02:00:00:00:00:01' }));
    const fdb = d.fdb.map((f) => ({ ...f, dst: '192.168.72.99' }));
    assert.deepEqual(ops(planDatapath(d, kernelOf(d, { neighbours, fdb }))), [
      'neigh-replace',
      'fdb-replace',
    ]);
  });

  it('recreates a VXLAN device whose VNI changed and re-adds its entries instead of replacing them', () => {
    const old = desired([n3]);
    const next = desired([n3], { ...config, vxlanVNI: 2 });
    assert.deepEqual(ops(planDatapath(next, kernelOf(old))), [
      'link-del',
      'vxlan-add',
      'link-up',
      'addr-add',
      'neigh-replace',
      'route-add',
      'route-add',
      'fdb-replace',
      'sysctl',
    ]);
  });

  it('fixes MTU, admin state and stale bridge addresses without recreating the bridge', () => {
    const d = desired([]);
    const { bridge } = d;
    assert.ok(bridge);
    const drifted = { ...bridge, mtu: 1500, up: false, addresses: ['10.244.9.1/24'] };
    assert.deepEqual(planDatapath(d, kernelOf(d, { bridge: drifted })), [
      { op: 'link-mtu', name: 'weft0', mtu: 1450 },
      { op: 'link-up', name: 'weft0' },
      { op: 'addr-add', dev: 'weft0', cidr: '10.244.1.1/24' },
      { op: 'addr-del', dev: 'weft0', cidr: '10.244.9.1/24' },
    ]);
  });

  it('restores the derived bridge MAC in place, and creates the bridge with it', () => {
    const d = desired([]);
    const { bridge } = d;
    assert.ok(bridge);
    assert.equal(bridge.mac, '0a:57:c0:a8:47:01');
    const drifted = { ...bridge, mac: '02:11:22:33:44:55' };
    assert.deepEqual(planDatapath(d, kernelOf(d, { bridge: drifted })), [
      { op: 'link-mac', name: 'weft0', mac: '0a:57:c0:a8:47:01' },
    ]);
    assert.deepEqual(planDatapath(d, empty)[0], {
      op: 'bridge-add',
      name: 'weft0',
      mtu: 1450,
      mac: '0a:57:c0:a8:47:01',
    });
  });

  it('updates set elements in place, rewrites the nft table when its chains differ or it is missing, and sets a wrong sysctl', () => {
    const d = desired([]);
    const other = desired([], { ...config, nonMasqueradeCIDRs: ['192.168.0.0/16'] });
    const update = planDatapath(d, kernelOf(d, { nft: other.nft }));
    assert.deepEqual(ops(update), ['nft-update']);
    assert.match(
      (update[0] as { script: string }).script,
      /^delete element inet weft nomasq4 \{ 192\.168\.0\.0\/16 \}\n$/,
    );
    const noMasq = desired([], { ...config, masquerade: false });
    assert.deepEqual(ops(planDatapath(d, kernelOf(d, { nft: noMasq.nft }))), ['nft-replace']);
    assert.deepEqual(ops(planDatapath(d, kernelOf(d, { nft: undefined }))), ['nft-replace']);
    const sysctls = new Map([...d.sysctls, ['net.ipv4.ip_forward', '0']]);
    assert.deepEqual(planDatapath(d, kernelOf(d, { sysctls })), [
      { op: 'sysctl', key: 'net.ipv4.ip_forward', value: '1' },
    ]);
  });

  it('deletes the VXLAN device when the backend becomes hostgw, without deleting its entries one by one', () => {
    const old = desired([n2, n3]);
    const next = desired([n2], { ...config, backend: 'hostgw' });
    const plan = planDatapath(next, kernelOf(old));
    // The reply-table routes go with the device too; the fwmark rule and the tunnel chains do not.
    assert.deepEqual(ops(plan), ['link-del', 'link-mtu', 'rule-del', 'nft-replace']);
  });
});
