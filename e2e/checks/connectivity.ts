/**
 * The connectivity checks of a cluster running Weft, through kubectl only, so that the
 * same list runs on kind (e2e/kind/run.sh) and on the local real-node cluster (its e2e
 * test and the demo): the workloads are e2e/workloads/checks.yaml.
 *
 * - pod → pod on every pair of nodes, the server seeing the client pod's own address (no NAT);
 * - pod → Service ClusterIP; pod → <svc>.<ns>.svc.cluster.local and a headless Service's
 *   pod records through cluster DNS;
 * - NodePort and hostPort of another node;
 * - egress to a host outside the cluster, seen there as the client's node address;
 * - kubectl logs of a pod.
 * On a dual-stack cluster (every check pod has an IPv6 address too) the same list runs again over
 * IPv6: pod → pod, the Service's IPv6 ClusterIP and AAAA record, NodePort and hostPort on the
 * nodes' IPv6 addresses, egress to an IPv6 URL seen as the node's IPv6 address.
 */
export type Kubectl = (args: string[]) => Promise<string>;

export const CHECKS_NAMESPACE = 'weft-e2e';
export const ECHO_HOST_PORT = 18080;
export const ECHO_NODE_PORT = 30080;

export interface PodInfo {
  name: string;
  node: string;
  ip: string;
  hostIp: string;
  /**
   * The pod's IPv6 address beside an IPv4 `ip` on a dual-stack cluster (status.podIPs); absent
   * otherwise (on an IPv6-only cluster `ip` is the IPv6 address).
   */
  ip6?: string;
}

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

export interface ConnectivityOptions {
  /** An HTTP server outside the cluster that answers with the client address it sees. */
  externalUrl?: string;
  /** InternalIP of each node, by node name (for the egress and NodePort checks). */
  nodeIps: Map<string, string>;
  /** Dual-stack: the IPv6 InternalIP of each node (parseNodeIps(json, 6)), for the IPv6 checks. */
  nodeIps6?: Map<string, string>;
  /** Dual-stack: the same outside server's IPv6 URL. */
  externalUrl6?: string;
  timeoutSeconds?: number;
}

/** Pods of the checks namespace with label app=`app` (pure parse of `kubectl get -o json`). */
export function parsePods(json: string): PodInfo[] {
  const list = JSON.parse(json) as {
    items?: Array<{
      metadata?: { name?: string };
      spec?: { nodeName?: string };
      status?: { podIP?: string; hostIP?: string; podIPs?: Array<{ ip?: string }> };
    }>;
  };
  return (list.items ?? []).map((p) => {
    const primary = p.status?.podIP ?? '';
    const ip6 = primary.includes(':')
      ? undefined
      : p.status?.podIPs?.map((i) => i.ip ?? '').find((ip) => ip.includes(':'));
    return {
      name: p.metadata?.name ?? '',
      node: p.spec?.nodeName ?? '',
      ip: p.status?.podIP ?? '',
      hostIp: p.status?.hostIP ?? '',
      ...(ip6 ? { ip6 } : {}),
    };
  });
}

/** "[addr]" for an IPv6 address in a URL, the address itself otherwise. */
export const urlHost = (ip: string) => (ip.includes(':') ? `[${ip}]` : ip);

/** The address part of what a server echoed: "10.244.1.5:43122" or "10.244.1.5" (pure). */
export function echoedAddress(text: string): string {
  const t = text.trim();
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?$/.exec(t);
  if (v4?.[1]) return v4[1];
  const v6 = /^\[([0-9a-fA-F:]+)\]:\d+$/.exec(t);
  return v6?.[1] ?? t;
}

async function pods(kubectl: Kubectl, app: string): Promise<PodInfo[]> {
  return parsePods(await kubectl(['-n', CHECKS_NAMESPACE, 'get', 'pods', '-l', `app=${app}`, '-o', 'json']));
}

/** Runs every check; never throws for a failed check (each result says), only when kubectl itself fails to list. */
export async function runConnectivityChecks(
  kubectl: Kubectl,
  o: ConnectivityOptions,
): Promise<CheckResult[]> {
  const t = String(o.timeoutSeconds ?? 5);
  const clients = await pods(kubectl, 'client');
  const echos = await pods(kubectl, 'echo');
  const results: CheckResult[] = [];
  const exec = async (pod: string, argv: string[]) =>
    kubectl(['-n', CHECKS_NAMESPACE, 'exec', pod, '--', ...argv]);
  const curl = (pod: string, url: string) => exec(pod, ['curl', '-sS', '-m', t, url]);
  const check = async (name: string, fn: () => Promise<string>) => {
    try {
      results.push({ name, ok: true, detail: await fn() });
    } catch (err) {
      results.push({ name, ok: false, detail: err instanceof Error ? err.message : String(err) });
    }
  };
  const expect = (cond: boolean, what: string) => {
    if (!cond) throw new Error(what);
  };

  for (const c of clients) {
    for (const e of echos) {
      await check(`pod ${c.node} -> pod ${e.node}`, async () => {
        const seen = echoedAddress(await curl(c.name, `http://${urlHost(e.ip)}:8080/clientip`));
        expect(
          seen === c.ip,
          `server ${e.ip} saw ${seen}, want the client pod's ${c.ip} (no NAT inside the cluster)`,
        );
        return `${c.ip} -> ${e.ip}, source kept`;
      });
    }
  }
  const first = clients[0];
  if (!first) {
    results.push({ name: 'client pods', ok: false, detail: 'no client pod found' });
    return results;
  }
  const svc = (
    await kubectl(['-n', CHECKS_NAMESPACE, 'get', 'svc', 'echo', '-o', 'jsonpath={.spec.clusterIP}'])
  ).trim();
  await check('pod -> Service ClusterIP', async () => {
    const host = (await curl(first.name, `http://${urlHost(svc)}/hostname`)).trim();
    expect(
      echos.some((e) => e.name === host),
      `ClusterIP ${svc} answered ${JSON.stringify(host)}, not an echo pod`,
    );
    return `${svc} -> ${host}`;
  });
  await check('DNS Service name', async () => {
    const out = await exec(first.name, ['nslookup', `echo.${CHECKS_NAMESPACE}.svc.cluster.local`]);
    expect(out.includes(svc), `nslookup did not return ${svc}: ${out.trim()}`);
    return `echo.${CHECKS_NAMESPACE}.svc.cluster.local -> ${svc}`;
  });
  await check('DNS headless Service pod records', async () => {
    const out = await exec(first.name, ['nslookup', `echo-headless.${CHECKS_NAMESPACE}.svc.cluster.local`]);
    const missing = echos.filter((e) => !out.includes(e.ip)).map((e) => e.ip);
    expect(missing.length === 0, `headless answer lacks ${missing.join(', ')}: ${out.trim()}`);
    return `${echos.length} pod records`;
  });
  for (const e of echos) {
    const from = clients.find((c) => c.node !== e.node) ?? first;
    await check(`hostPort on ${e.node}`, async () => {
      const host = (await curl(from.name, `http://${urlHost(e.hostIp)}:${ECHO_HOST_PORT}/hostname`)).trim();
      expect(
        host === e.name,
        `${e.hostIp}:${ECHO_HOST_PORT} answered ${JSON.stringify(host)}, want ${e.name}`,
      );
      return `${from.node} -> ${e.hostIp}:${ECHO_HOST_PORT}`;
    });
  }
  for (const [node, ip] of o.nodeIps) {
    const from = clients.find((c) => c.node !== node) ?? first;
    await check(`NodePort on ${node}`, async () => {
      const host = (await curl(from.name, `http://${urlHost(ip)}:${ECHO_NODE_PORT}/hostname`)).trim();
      expect(
        echos.some((e) => e.name === host),
        `${ip}:${ECHO_NODE_PORT} answered ${JSON.stringify(host)}`,
      );
      return `${from.node} -> ${ip}:${ECHO_NODE_PORT} -> ${host}`;
    });
  }
  if (o.externalUrl !== undefined) {
    const url = o.externalUrl;
    for (const c of clients) {
      await check(`egress from ${c.node}`, async () => {
        const seen = echoedAddress(await curl(c.name, url));
        const want = o.nodeIps.get(c.node);
        expect(seen === want, `${url} saw ${seen}, want node address ${want ?? '?'} (masquerade)`);
        return `leaves as ${seen}`;
      });
    }
  }
  const dual = [...clients, ...echos].every((p) => p.ip6 !== undefined);
  if (dual) await ipv6Checks(kubectl, o, clients, echos, { curl, exec, check, expect });
  const e0 = echos[0];
  if (e0) {
    await check('kubectl logs', async () => {
      const out = await kubectl(['-n', CHECKS_NAMESPACE, 'logs', e0.name, '--tail=20']);
      expect(out.trim() !== '', `no log lines from ${e0.name}`);
      return `${out.trim().split('\n').length} lines`;
    });
  }
  return results;
}

interface CheckTools {
  curl: (pod: string, url: string) => Promise<string>;
  exec: (pod: string, argv: string[]) => Promise<string>;
  check: (name: string, fn: () => Promise<string>) => Promise<void>;
  expect: (cond: boolean, what: string) => void;
}

/** The IPv6 half of a dual-stack cluster's checks; each result goes in through `check`. */
async function ipv6Checks(
  kubectl: Kubectl,
  o: ConnectivityOptions,
  clients: PodInfo[],
  echos: PodInfo[],
  { curl, exec, check, expect }: CheckTools,
): Promise<void> {
  for (const c of clients) {
    for (const e of echos) {
      await check(`IPv6 pod ${c.node} -> pod ${e.node}`, async () => {
        const seen = echoedAddress(await curl(c.name, `http://[${e.ip6}]:8080/clientip`));
        expect(seen === c.ip6, `server ${e.ip6} saw ${seen}, want the client pod's ${c.ip6} (no NAT)`);
        return `${c.ip6} -> ${e.ip6}, source kept`;
      });
    }
  }
  const first = clients[0] as PodInfo;
  const ips = (
    await kubectl(['-n', CHECKS_NAMESPACE, 'get', 'svc', 'echo', '-o', 'jsonpath={.spec.clusterIPs}'])
  ).trim();
  const svc6 = (JSON.parse(ips || '[]') as string[]).find((ip) => ip.includes(':'));
  await check('IPv6 pod -> Service ClusterIP', async () => {
    expect(svc6 !== undefined, `Service echo has no IPv6 ClusterIP: ${ips}`);
    const host = (await curl(first.name, `http://[${svc6}]/hostname`)).trim();
    expect(
      echos.some((e) => e.name === host),
      `ClusterIP ${svc6} answered ${JSON.stringify(host)}`,
    );
    return `${svc6} -> ${host}`;
  });
  await check('DNS Service name AAAA', async () => {
    const name = `echo.${CHECKS_NAMESPACE}.svc.cluster.local`;
    const out = await exec(first.name, ['nslookup', '-type=AAAA', name]);
    expect(svc6 !== undefined && out.includes(svc6), `AAAA of ${name} is not ${svc6}: ${out.trim()}`);
    return `${name} -> ${svc6}`;
  });
  for (const [node, ip] of o.nodeIps6 ?? new Map<string, string>()) {
    const from = clients.find((c) => c.node !== node) ?? first;
    await check(`IPv6 NodePort on ${node}`, async () => {
      const host = (await curl(from.name, `http://${urlHost(ip)}:${ECHO_NODE_PORT}/hostname`)).trim();
      expect(
        echos.some((e) => e.name === host),
        `[${ip}]:${ECHO_NODE_PORT} answered ${JSON.stringify(host)}`,
      );
      return `${from.node} -> [${ip}]:${ECHO_NODE_PORT} -> ${host}`;
    });
    const e = echos.find((p) => p.node === node);
    if (e === undefined) continue;
    await check(`IPv6 hostPort on ${node}`, async () => {
      const host = (await curl(from.name, `http://${urlHost(ip)}:${ECHO_HOST_PORT}/hostname`)).trim();
      expect(host === e.name, `[${ip}]:${ECHO_HOST_PORT} answered ${JSON.stringify(host)}, want ${e.name}`);
      return `${from.node} -> [${ip}]:${ECHO_HOST_PORT}`;
    });
  }
  if (o.externalUrl6 !== undefined) {
    const url = o.externalUrl6;
    for (const c of clients) {
      await check(`IPv6 egress from ${c.node}`, async () => {
        const seen = echoedAddress(await curl(c.name, url));
        const want = o.nodeIps6?.get(c.node);
        expect(seen === want, `${url} saw ${seen}, want node address ${want ?? '?'} (masquerade)`);
        return `leaves as ${seen}`;
      });
    }
  }
}

/** InternalIP per node name from `kubectl get nodes -o json` (pure); `family` 6 = the IPv6 one. */
export function parseNodeIps(json: string, family: 4 | 6 = 4): Map<string, string> {
  const list = JSON.parse(json) as {
    items?: Array<{
      metadata?: { name?: string };
      status?: { addresses?: Array<{ type?: string; address?: string }> };
    }>;
  };
  const out = new Map<string, string>();
  for (const n of list.items ?? []) {
    const ip = n.status?.addresses?.find(
      (a) => a.type === 'InternalIP' && (a.address ?? '').includes(':') === (family === 6),
    )?.address;
    if (n.metadata?.name && ip) out.set(n.metadata.name, ip);
  }
  return out;
}
