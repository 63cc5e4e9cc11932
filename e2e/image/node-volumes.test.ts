import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterNode } from '../cluster/index.js';
import { loadAgentSpec } from './containerized-agent.js';
import { nodeHostPaths } from './node-volumes.js';

const node = {
  name: 'n1',
  dirs: {
    root: '/r/n1',
    cniBin: '/r/n1/opt/cni/bin',
    cniConf: '/r/n1/etc/cni/net.d',
    run: '/r/n1/run',
    state: '/r/n1/var/lib',
  },
} as ClusterNode;

describe('node volumes for the containerized agent', () => {
  it('has a node-local path for every hostPath the shipped DaemonSet declares', () => {
    const paths = nodeHostPaths(node);
    const declared = loadAgentSpec().mounts.flatMap((m) =>
      m.volume.kind === 'hostPath' ? [m.volume.path] : [],
    );
    assert.ok(declared.length >= 6);
    const unmapped = declared.filter((p) => paths[p] === undefined);
    assert.deepEqual(unmapped, [], 'add these to nodeHostPaths() in e2e/image/node-volumes.ts');
  });

  it('keeps each node in its own dirs; pod namespaces are the machine-wide /run/netns', () => {
    const paths = nodeHostPaths(node);
    assert.equal(paths['/opt/cni/bin'], '/r/n1/opt/cni/bin');
    assert.equal(paths['/run/weft'], '/r/n1/run');
    assert.equal(paths['/run/xtables.lock'], '/r/n1/xtables.lock');
    assert.equal(paths['/var/run/netns'], '/run/netns');
  });
});
