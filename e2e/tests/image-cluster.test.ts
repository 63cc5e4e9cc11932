/**
 * The agent image on the local cluster, run the way its DaemonSet declares (container
 * spec read from manifests/10-agent-daemonset.yaml): three containerized agents (node1,
 * node2 on subnet A, node3 on subnet B) install the CNI shim and conflist into their
 * node's dirs; pods made through that conflist reach each other across nodes and
 * subnets, reach the outside through masquerade, and serve a hostPort. `weft status`
 * works through `podman exec`; a container without a declared mount or without its
 * privileges refuses to start with a clear message.
 *
 * Needs the image built by scripts/image.sh (scripts/test.sh includes this file only
 * then; see docs/image.md).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CniRuntime, type Conflist } from '../../agent/test/ns/cni-runtime.js';
import { runCommand } from '../cluster/exec.js';
import {
  type Cluster,
  type ClusterNode,
  destroyCluster,
  podNetnsName,
  startCluster,
} from '../cluster/index.js';
import {
  ContainerizedAgent,
  loadAgentSpec,
  podman,
  REPO,
  removeContainers,
} from '../image/containerized-agent.js';
import type { AgentPodSpec } from '../image/daemonset-spec.js';

const NAME = 'img';
const HOST_PORT = 18080;

interface Pod {
  readonly node: ClusterNode;
  readonly id: string;
  readonly netns: string;
  readonly ip: string;
  readonly result: Record<string, unknown>;
  readonly runtime: CniRuntime;
  readonly capabilityArgs?: Record<string, unknown>;
}

describe('containerized agents on the local cluster', { timeout: 600_000 }, () => {
  let cluster: Cluster;
  let spec: AgentPodSpec;
  const agents = new Map<string, ContainerizedAgent>();
  const pods: Pod[] = [];
  const extra: ContainerizedAgent[] = [];

  /** The node's conflist as the containerized agent installed it, its socket path resolved on this machine. */
  function nodeRuntime(node: ClusterNode): CniRuntime {
    const agent = agents.get(node.name) as ContainerizedAgent;
    const file = readdirSync(node.dirs.cniConf).find((f) => f.endsWith('.conflist'));
    assert.ok(file, `no conflist in ${node.dirs.cniConf}`);
    const conflist = JSON.parse(readFileSync(join(node.dirs.cniConf, file), 'utf8')) as Conflist;
    const plugins = conflist.plugins.map((p) =>
      typeof p.socket === 'string' ? { ...p, socket: agent.hostPath(p.socket) } : p,
    );
    return new CniRuntime({ ...conflist, plugins }, [node.dirs.cniBin], `/run/netns/${node.netns}`);
  }

  async function addPod(
    node: ClusterNode,
    id: string,
    capabilityArgs?: Record<string, unknown>,
  ): Promise<Pod> {
    const netns = podNetnsName(node, id);
    const add = await runCommand(['ip', 'netns', 'add', netns]);
    assert.equal(add.code, 0, add.stderr);
    const runtime = nodeRuntime(node);
    const attachment = {
      containerId: `${node.name}-${id}`,
      netns: `/run/netns/${netns}`,
      ...(capabilityArgs ? { capabilityArgs } : {}),
    };
    const result = await runtime.add(attachment);
    const ips = result.ips as Array<{ address: string }>;
    const ip = (ips[0]?.address ?? '').split('/')[0] as string;
    const pod = { node, id, netns, ip, result, runtime, ...(capabilityArgs ? { capabilityArgs } : {}) };
    pods.push(pod);
    return pod;
  }

  async function pingFromPod(pod: Pod, ip: string): Promise<boolean> {
    const r = await runCommand(['ip', 'netns', 'exec', pod.netns, 'ping', '-c', '1', '-W', '2', ip]);
    return r.code === 0;
  }

  before(async () => {
    await removeContainers(`weft-agent-${NAME}-`);
    await destroyCluster(NAME);
    spec = loadAgentSpec();
    const exists = await podman(['image', 'exists', spec.image]).catch((err: unknown) => ({
      code: -1,
      stderr: String(err),
    }));
    assert.equal(
      exists.code,
      0,
      `image ${spec.image} is not built here: run \`npm run image\` (podman) first`,
    );
    cluster = await startCluster({ name: NAME, nodes: 3, subnets: 2 });
    await cluster.waitForPodCIDRs();
    for (const file of ['00-namespace.yaml', '01-agent-rbac.yaml', '03-config.yaml']) {
      await cluster.kubectl(['apply', '-f', join(REPO, 'manifests', file)]);
    }
    const key = randomBytes(32).toString('hex');
    await cluster.kubectl([
      'create',
      'secret',
      'generic',
      'weft-gossip-key',
      '-n',
      'weft-system',
      `--from-literal=key=${key}`,
    ]);
    const started = await Promise.all(cluster.nodes.map((n) => ContainerizedAgent.start(cluster, n, spec)));
    for (const a of started) agents.set(a.node.name, a);
    await Promise.all(started.map((a) => a.waitReady()));
  });

  after(async () => {
    for (const pod of pods.reverse()) {
      await pod.runtime
        .del(
          {
            containerId: `${pod.node.name}-${pod.id}`,
            netns: `/run/netns/${pod.netns}`,
            ...(pod.capabilityArgs ? { capabilityArgs: pod.capabilityArgs } : {}),
          },
          pod.result,
        )
        .catch(() => undefined);
      await runCommand(['ip', 'netns', 'del', pod.netns]);
    }
    await Promise.allSettled([...agents.values(), ...extra].map((a) => a.stop(5)));
    await removeContainers(`weft-agent-${NAME}-`).catch(() => undefined);
    await cluster?.stop();
  });

  it('runs the agent as the manifest declares: root, privileged, in the node network namespace', async () => {
    const agent = agents.get(cluster.nodes[0]?.name ?? '') as ContainerizedAgent;
    const inspect = await podman([
      'inspect',
      '--format',
      '{{.HostConfig.Privileged}} {{.Config.User}}',
      agent.name,
    ]);
    assert.equal(inspect.stdout.trim(), 'true 0');
    const status = await agent.exec(['cat', '/proc/1/status']);
    assert.match(status.stdout, /^Uid:\s+0\s/m);
    const capEff = /^CapEff:\s+([0-9a-f]+)/m.exec(status.stdout)?.[1] ?? '0';
    assert.ok((BigInt(`0x${capEff}`) >> 12n) & 1n, 'CAP_NET_ADMIN');
    const addr = await agent.exec(['ip', '-j', 'addr', 'show', 'eth0']);
    assert.match(
      addr.stdout,
      new RegExp(`"local":"${agent.node.ip.replaceAll('.', '\\.')}"`),
      'hostNetwork = node netns',
    );
    assert.equal(agent.readiness?.state.ready, true);
    const deadline = Date.now() + 3 * (spec.liveness?.periodSeconds ?? 10) * 1000;
    while ((agent.liveness?.state.successes ?? 0) < 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok((agent.liveness?.state.successes ?? 0) >= 1, 'liveness probe answered');
    assert.equal(agent.restarts, 0);
  });

  it('installs the CNI shim, portmap and the conflist into the node CNI dirs', () => {
    for (const node of cluster.nodes) {
      const bins = readdirSync(node.dirs.cniBin);
      assert.ok(bins.includes('weft') && bins.includes('portmap'), `${node.name}: ${bins.join(',')}`);
      assert.ok(readdirSync(node.dirs.cniConf).some((f) => f.endsWith('.conflist')));
    }
  });

  it('pod ↔ pod across 3 nodes and 2 subnets, and the pod gateway on the same node', async () => {
    for (const node of cluster.nodes) {
      await addPod(node, 'a');
      await addPod(node, 'b');
    }
    const failures: string[] = [];
    for (const from of pods) {
      for (const to of pods) {
        if (from === to) continue;
        if (!(await pingFromPod(from, to.ip))) failures.push(`${from.netns} → ${to.netns} (${to.ip})`);
      }
    }
    assert.deepEqual(failures, [], 'unreachable pairs');
  });

  it('masquerades pod egress: the external host (no route to pods) answers', async () => {
    for (const node of cluster.nodes) {
      const pod = pods.find((p) => p.node === node) as Pod;
      assert.ok(
        await pingFromPod(pod, cluster.external.ip),
        `${pod.netns} → external ${cluster.external.ip}`,
      );
    }
  });

  it('serves a hostPort on node3 to other nodes and to the external host', async () => {
    const node3 = cluster.nodes[2] as ClusterNode;
    const pod = await addPod(node3, 'web', {
      portMappings: [{ hostPort: HOST_PORT, containerPort: 80, protocol: 'tcp' }],
    });
    const server = await runCommand([
      'ip',
      'netns',
      'exec',
      pod.netns,
      'sh',
      '-c',
      `socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:'echo hello-from-${pod.id}' >/dev/null 2>&1 & echo $!`,
    ]);
    const serverPid = server.stdout.trim();
    try {
      for (let i = 0; i < 50; i++) {
        const ss = await runCommand(['ip', 'netns', 'exec', pod.netns, 'ss', '-Hltn', 'sport = :80']);
        if (ss.stdout.trim() !== '') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const url = `http://${node3.ip}:${HOST_PORT}/`;
      const curl = ['curl', '-s', '-m', '3', '--http0.9', url];
      const fromNode1 = await cluster.execInNode(cluster.nodes[0] as ClusterNode, curl);
      if (!/hello-from-web/.test(fromNode1.stdout)) {
        const direct = await cluster.execInNode(node3, [
          'curl',
          '-s',
          '-m',
          '3',
          '--http0.9',
          `http://${pod.ip}:80/`,
        ]);
        const nat = await cluster.execInNode(node3, ['iptables-save', '-t', 'nat']);
        const listen = await runCommand(['ip', 'netns', 'exec', pod.netns, 'ss', '-ltn']);
        assert.fail(
          `node1 → ${url}: exit ${fromNode1.code} ${fromNode1.stderr}\ndirect: ${direct.stdout} ${direct.stderr}\nlisten: ${listen.stdout}\nnat:\n${nat.stdout}`,
        );
      }
      const fromExternal = await cluster.execInNode(cluster.external.netns, curl);
      assert.match(fromExternal.stdout, /hello-from-web/, `external: ${fromExternal.stderr}`);
    } finally {
      if (serverPid) await runCommand(['kill', serverPid]);
    }
  });

  it('weft status works through podman exec (as kubectl exec would)', async () => {
    const agent = agents.get(cluster.nodes[2]?.name ?? '') as ContainerizedAgent;
    const text = await agent.exec(['weft', 'status']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`Node:\\s+${agent.node.name}\\b`));
    const json = await agent.exec(['weft', 'status', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout) as { node: { name: string; ready: boolean }; peers: unknown[] };
    assert.equal(doc.node.name, agent.node.name);
    assert.equal(doc.node.ready, true);
    assert.equal(doc.peers.length, 2);
  });

  it('refuses to start without a declared mount or without privileges, saying which', async () => {
    const node1 = cluster.nodes[0] as ClusterNode;
    const noMount = await ContainerizedAgent.start(cluster, node1, spec, {
      omitMounts: ['cni-bin'],
      nameSuffix: '-nomount',
      probes: false,
    });
    extra.push(noMount);
    assert.equal(await noMount.waitExit(), 2);
    assert.match(await noMount.logs(), /WEFT_CNI_BIN_DIR.*\/host\/opt\/cni\/bin.*not mounted from the host/);

    const unprivileged = await ContainerizedAgent.start(
      cluster,
      node1,
      { ...spec, privileged: false },
      {
        nameSuffix: '-unpriv',
        probes: false,
      },
    );
    extra.push(unprivileged);
    assert.equal(await unprivileged.waitExit(), 2);
    assert.match(await unprivileged.logs(), /missing CAP_NET_ADMIN, CAP_SYS_ADMIN/);
  });
});
