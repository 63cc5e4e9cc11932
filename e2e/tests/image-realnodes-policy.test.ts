/**
 * NetworkPolicy on real nodes, as the Kubernetes API and the kubelets drive it (Weft
 * installed from manifests/, networkPolicy on as shipped): established connections under
 * policy changes, an agent killed while a deny is in force, and 100 pods created at once
 * under deny-all. The upstream Netpol specs are the `netpol` conformance selection; these
 * are the cases they do not cover.
 *
 * Needs the image built by scripts/image.sh and the node images (e2e/images/build.sh);
 * scripts/test.sh includes this file only then.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { sleep } from '../../common/backoff.js';
import { createLogger } from '../../common/log.js';
import { waitFor } from '../cluster/agents.js';
import { type Cluster, destroyCluster, startCluster } from '../cluster/index.js';
import { installWeft, waitForWeft } from '../realnode/addons.js';

const NAME = 'rpol';
const NS = 'weft-pol';
const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.53';

/** A pod pinned to a node; agnhost netexec (HTTP on 8080) unless `command` is given. */
function pod(name: string, ns: string, node: string, labels: object, command?: string[]): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels },
    spec: {
      nodeName: node,
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: 'c',
          image: AGNHOST,
          ...(command ? { command } : { args: ['netexec', '--http-port=8080'] }),
          ports: [{ containerPort: 8080, name: 'http' }],
        },
      ],
    },
  };
}

/**
 * One long-lived HTTP/1.1 keep-alive connection per target, a request every 200 ms, each
 * answer or 1 s of silence printed as "<label> <ms since epoch> ok|stall". A stall does not
 * reset the connection: when traffic is allowed again, TCP's retransmission carries on.
 */
function streamScript(targets: Array<{ label: string; ip: string }>): string {
  const loop = (label: string, ip: string) =>
    `( exec 3<>/dev/tcp/${ip}/8080; while :; do
        printf 'GET /hostname HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' >&3
        while :; do
          if read -t 1 -r st <&3; then break; fi
          echo "${label} $(date +%s%3N) stall"
        done
        len=0
        while read -t 5 -r h <&3; do h=\${h%$'\\r'}; [ -z "$h" ] && break
          case "$h" in [Cc]ontent-[Ll]ength:*) len=\${h#*: };; esac; done
        read -t 5 -r -N "$len" body <&3
        echo "${label} $(date +%s%3N) ok"
        sleep 0.2
      done ) &`;
  return `${targets.map((t) => loop(t.label, t.ip)).join('\n')}\nwait`;
}

interface StreamEvent {
  label: string;
  at: number;
  ok: boolean;
}

function parseStream(logs: string): StreamEvent[] {
  return logs
    .split('\n')
    .map((l) => l.trim().split(' '))
    .filter((f) => f.length === 3 && (f[2] === 'ok' || f[2] === 'stall'))
    .map(([label, at, what]) => ({ label: label ?? '', at: Number(at), ok: what === 'ok' }));
}

const oks = (events: StreamEvent[], label: string, from: number, to: number) =>
  events.filter((e) => e.label === label && e.ok && e.at >= from && e.at < to).length;

/** e2e/cluster's waitFor, polling every 250 ms (each probe is a kubectl call). */
const waitUntil = (what: string, fn: () => Promise<boolean>, timeoutMs: number) =>
  waitFor(what, fn, timeoutMs, 250);

/** PIDs of the agent processes whose network namespace is the node's. */
function agentPids(netns: string): number[] {
  const target = statSync(`/run/netns/${netns}`).ino;
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (cmd.includes('dist/agent/src/main.js') && statSync(`/proc/${d}/ns/net`).ino === target)
        pids.push(Number(d));
    } catch {
      // the process ended meanwhile
    }
  }
  return pids;
}

describe('NetworkPolicy on real nodes', { timeout: 900_000 }, () => {
  const log = createLogger('e2e-policy', process.env.WEFT_E2E_LOG ?? 'warn');
  let cluster: Cluster;
  let nodes: string[];
  const ip: Record<string, string> = {};

  const kubectl = (args: string[], input?: string) =>
    cluster.kubectl(args, input === undefined ? {} : { input });
  const apply = (obj: object) => kubectl(['apply', '-f', '-'], JSON.stringify(obj));
  const podIp = async (ns: string, name: string) =>
    (await kubectl(['-n', ns, 'get', 'pod', name, '-o', 'jsonpath={.status.podIP}'])).trim();
  const policy = (name: string, ns: string, spec: object) =>
    apply({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name, namespace: ns },
      spec,
    });
  /** Curl from the client pod to each address at once; the addresses that answered. */
  async function reachable(from: string, ips: readonly string[]): Promise<Set<string>> {
    const script = ips
      .map(
        (a) =>
          `(curl -s -o /dev/null --connect-timeout 0.5 -m 1 http://${a}:8080/hostname && echo open ${a}) &`,
      )
      .join('\n');
    const argv = ['-n', NS, 'exec', from, '--', 'bash', '-c', `${script}\nwait; true`];
    // The probe is idempotent: when kubectl's exec stream itself breaks (seen once under load:
    // "websocket: close 1006 (abnormal closure)"), it runs again; what the probes print is never
    // retried away, since a transport error carries no probe result.
    let out = '';
    for (let attempt = 1; ; attempt++) {
      try {
        out = await kubectl(argv);
        break;
      } catch (err: unknown) {
        const transport = /websocket|error stream|unexpected EOF|connection reset/.test(String(err));
        if (!transport || attempt === 3) throw err;
        log.warn({ err: String(err).slice(-300), attempt }, 'kubectl exec stream broke; probing again');
      }
    }
    return new Set(out.split('\n').flatMap((l) => (l.startsWith('open ') ? [l.slice(5).trim()] : [])));
  }
  async function streamEvents(): Promise<StreamEvent[]> {
    return parseStream(await kubectl(['-n', NS, 'logs', 'stream']));
  }

  before(async () => {
    await destroyCluster(NAME);
    cluster = await startCluster({ name: NAME, nodes: 3, subnets: 2, kubelet: true }, log);
    await cluster.waitForPodCIDRs(180_000);
    await installWeft(cluster);
    await waitForWeft(cluster, 300);
    nodes = cluster.nodes.map((n) => n.name);
    await kubectl(['create', 'namespace', NS]);
    await apply(pod('srv-a', NS, nodes[1] ?? '', { app: 'srv-a' }));
    await apply(pod('srv-b', NS, nodes[2] ?? '', { app: 'srv-b' }));
    await apply(pod('probe', NS, nodes[0] ?? '', { app: 'client' }, ['/agnhost', 'pause']));
    await kubectl(['-n', NS, 'wait', '--for=condition=Ready', 'pod', '--all', '--timeout=240s']);
    for (const p of ['srv-a', 'srv-b', 'probe']) ip[p] = await podIp(NS, p);
    await apply(
      pod('stream', NS, nodes[0] ?? '', { app: 'client' }, [
        'bash',
        '-c',
        streamScript([
          { label: 'a', ip: ip['srv-a'] ?? '' },
          { label: 'b', ip: ip['srv-b'] ?? '' },
        ]),
      ]),
    );
    await kubectl(['-n', NS, 'wait', '--for=condition=Ready', 'pod/stream', '--timeout=120s']);
  });

  after(async () => {
    await destroyCluster(NAME);
  });

  it('established streams: a new deny stops one, the other goes on; allowing or deleting resumes it', async () => {
    await waitUntil(
      'both streams answering',
      async () => {
        const e = await streamEvents();
        const now = Date.now();
        return oks(e, 'a', now - 2000, now + 1) > 0 && oks(e, 'b', now - 2000, now + 1) > 0;
      },
      60_000,
    );
    // Deny all ingress to srv-b: its established stream stops within 2 s, srv-a's goes on.
    const denied = Date.now();
    await policy('deny-b', NS, { podSelector: { matchLabels: { app: 'srv-b' } }, policyTypes: ['Ingress'] });
    await sleep(8000);
    let e = await streamEvents();
    assert.equal(
      oks(e, 'b', denied + 2000, denied + 8000),
      0,
      'srv-b answered the established stream under deny',
    );
    assert.ok(
      oks(e, 'a', denied + 2000, denied + 8000) >= 10,
      'srv-a stream stalled although no policy selects it',
    );
    // Changed to allow the client pods on the named port: the same connection resumes.
    const allowed = Date.now();
    await policy('deny-b', NS, {
      podSelector: { matchLabels: { app: 'srv-b' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }], ports: [{ port: 'http' }] }],
    });
    await waitUntil(
      'srv-b stream resuming after the allow',
      async () => oks(await streamEvents(), 'b', allowed, Date.now() + 1) >= 3,
      15_000,
    );
    // Changed to allow only other pods: denied again.
    const redenied = Date.now();
    await policy('deny-b', NS, {
      podSelector: { matchLabels: { app: 'srv-b' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'nobody' } } }] }],
    });
    await sleep(6000);
    e = await streamEvents();
    assert.equal(
      oks(e, 'b', redenied + 2000, redenied + 6000),
      0,
      'srv-b answered after the allow was narrowed',
    );
    // Deleted: no policy selects srv-b any more.
    const deleted = Date.now();
    await kubectl(['-n', NS, 'delete', 'networkpolicy', 'deny-b']);
    await waitUntil(
      'srv-b stream resuming after the delete',
      async () => oks(await streamEvents(), 'b', deleted, Date.now() + 1) >= 3,
      15_000,
    );
    assert.ok(oks(await streamEvents(), 'a', denied, Date.now()) > 50, 'srv-a stream kept going throughout');
  });

  it('an agent killed while a deny is in force: nothing gets through until it is back and after', async () => {
    const victim = cluster.nodes[2];
    assert.ok(victim);
    await policy('deny-b', NS, { podSelector: { matchLabels: { app: 'srv-b' } }, policyTypes: ['Ingress'] });
    await waitUntil(
      'deny in force',
      async () => !(await reachable('probe', [ip['srv-b'] ?? ''])).size,
      15_000,
    );
    const pids = agentPids(victim.netns);
    assert.equal(pids.length, 1, `one agent process in ${victim.netns}: ${pids.join(', ')}`);
    process.kill(pids[0] ?? 0, 'SIGKILL');
    // Probe with new connections while it is down and while the kubelet restarts it.
    let probes = 0;
    let restarted = false;
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      const open = await reachable('probe', [ip['srv-b'] ?? '']);
      probes++;
      assert.equal(
        open.size,
        0,
        `srv-b reachable through the deny after the agent was killed (probe ${probes})`,
      );
      const now = agentPids(victim.netns);
      if (!restarted && now.length === 1 && now[0] !== pids[0]) restarted = true;
      if (restarted && probes >= 10) break;
    }
    assert.ok(restarted, 'the kubelet did not restart the agent within 90 s');
    await waitForWeft(cluster, 120);
    for (let i = 0; i < 5; i++) assert.equal((await reachable('probe', [ip['srv-b'] ?? ''])).size, 0);
    await kubectl(['-n', NS, 'delete', 'networkpolicy', 'deny-b']);
    await waitUntil(
      'srv-b reachable again',
      async () => (await reachable('probe', [ip['srv-b'] ?? ''])).size === 1,
      15_000,
    );
  });

  it('100 pods created at once under deny-all: none answers before its allow, all do after', async () => {
    const ns = 'weft-pol100';
    await kubectl(['create', 'namespace', ns]);
    await policy('deny-all', ns, { podSelector: {}, policyTypes: ['Ingress'] });
    await apply({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'many', namespace: ns },
      spec: {
        replicas: 100,
        selector: { matchLabels: { app: 'many' } },
        template: {
          metadata: { labels: { app: 'many' } },
          spec: {
            terminationGracePeriodSeconds: 0,
            containers: [
              {
                name: 'c',
                image: AGNHOST,
                args: ['netexec', '--http-port=8080'],
                readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    });
    // Probe every pod as soon as it has an address, again until all 100 are Ready
    // (readiness comes from the kubelet on the pod's own node, which policy lets through).
    const probedReady = new Set<string>();
    const deadline = Date.now() + 300_000;
    let ips: string[] = [];
    while (Date.now() < deadline) {
      const list = JSON.parse(await kubectl(['-n', ns, 'get', 'pods', '-o', 'json'])) as {
        items: Array<{ status: { podIP?: string; conditions?: Array<{ type: string; status: string }> } }>;
      };
      const ready = list.items.filter((p) =>
        p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
      ips = list.items.flatMap((p) => (p.status.podIP ? [p.status.podIP] : []));
      const open = await reachable('probe', ips);
      assert.deepEqual([...open], [], 'pods under deny-all answered');
      for (const p of ready) if (p.status.podIP) probedReady.add(p.status.podIP);
      if (probedReady.size >= 100) break;
    }
    assert.equal(probedReady.size, 100, 'not all 100 pods became Ready and were probed');
    await policy('allow-probe', ns, {
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': NS } } }] }],
    });
    let open = new Set<string>();
    await waitUntil(
      'all 100 answering after the allow',
      async () => {
        open = await reachable('probe', ips);
        return open.size === 100;
      },
      30_000,
    ).catch((err: unknown) => {
      throw new Error(`${open.size} of 100 answer after the allow: ${String(err)}`);
    });
  });
});
