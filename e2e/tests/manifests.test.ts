import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Cluster, destroyCluster, resolveBinDir, startCluster } from '../cluster/index.js';

const NAME = 'mtest';
const RUN_ROOT = '/tmp/weft-e2e-test';

/**
 * `kubectl auth can-i` as a ServiceAccount (admin impersonation).
 * `resource` is "kind" or "kind/name"; a subresource is written "kind#sub".
 */
async function canI(
  cluster: Cluster,
  sa: string,
  verb: string,
  resource: string,
  ns?: string,
): Promise<boolean> {
  const [kind, sub] = resource.split('#') as [string, string | undefined];
  const args = ['auth', 'can-i', '--quiet', verb, kind, `--as=system:serviceaccount:weft-system:${sa}`];
  if (sub) args.push(`--subresource=${sub}`);
  if (ns) args.push('-n', ns);
  try {
    await cluster.kubectl(args);
    return true;
  } catch (err: unknown) {
    // --quiet: exit 0 = allowed, exit 1 = denied; anything else is a real failure
    if (/exited 1\b/.test(String((err as { message?: string }).message ?? err))) return false;
    throw err;
  }
}

describe('manifests/ against a real API server', () => {
  let cluster: Cluster;

  before(async () => {
    await destroyCluster(NAME, RUN_ROOT);
    cluster = await startCluster({
      name: NAME,
      nodes: 1,
      subnets: 1,
      runRoot: RUN_ROOT,
      binDir: await resolveBinDir(),
    });
  });
  after(async () => {
    await cluster?.stop();
    await destroyCluster(NAME, RUN_ROOT);
  });

  it('passes a server-side dry run of the whole folder, with -f and with -k', async () => {
    await cluster.kubectl(['apply', '-f', 'manifests/00-namespace.yaml']);
    const byFile = await cluster.kubectl(['apply', '--dry-run=server', '-f', 'manifests/']);
    for (const want of [
      'daemonset.apps/weft-agent',
      'deployment.apps/weft-controller',
      'configmap/weft-config',
    ]) {
      assert.match(byFile, new RegExp(`${want} (created|configured|unchanged) \\(server dry run\\)`));
    }
    const byKustomize = await cluster.kubectl(['apply', '--dry-run=server', '-k', 'manifests/']);
    assert.match(
      byKustomize,
      /daemonset\.apps\/weft-agent (created|configured|unchanged) \(server dry run\)/,
    );
  });

  it('grants the agent and controller what they need and nothing more', async () => {
    await cluster.kubectl(['apply', '-f', 'manifests/']);
    // agent: read nodes, patch its status; no secrets, no configmaps, no node writes
    assert.equal(await canI(cluster, 'weft-agent', 'watch', 'nodes'), true);
    assert.equal(await canI(cluster, 'weft-agent', 'patch', 'nodes#status'), true);
    assert.equal(await canI(cluster, 'weft-agent', 'patch', 'nodes'), false);
    assert.equal(await canI(cluster, 'weft-agent', 'get', 'secrets', 'weft-system'), false);
    assert.equal(await canI(cluster, 'weft-agent', 'get', 'configmaps', 'weft-system'), false);
    // controller: nodes patch, its own Secret and Lease only
    assert.equal(await canI(cluster, 'weft-controller', 'patch', 'nodes'), true);
    assert.equal(await canI(cluster, 'weft-controller', 'create', 'secrets', 'weft-system'), true);
    assert.equal(
      await canI(cluster, 'weft-controller', 'get', 'secrets/weft-gossip-key', 'weft-system'),
      true,
    );
    assert.equal(await canI(cluster, 'weft-controller', 'get', 'secrets/other', 'weft-system'), false);
    assert.equal(await canI(cluster, 'weft-controller', 'list', 'secrets', 'weft-system'), false);
    assert.equal(await canI(cluster, 'weft-controller', 'get', 'secrets', 'kube-system'), false);
    assert.equal(
      await canI(cluster, 'weft-controller', 'update', 'leases/weft-controller', 'weft-system'),
      true,
    );
    assert.equal(await canI(cluster, 'weft-controller', 'update', 'leases/other', 'weft-system'), false);
    assert.equal(await canI(cluster, 'weft-controller', 'delete', 'nodes'), false);
  });
});
