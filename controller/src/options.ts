import { hostname } from 'node:os';
import { ConfigError } from '../../agent/src/config/config-error.js';
import { DEFAULT_NAMESPACE, NAMESPACE_RE } from '../../common/names.js';

export interface HttpAddress {
  readonly host: string;
  readonly port: number;
}

/** Everything the controller reads from its environment (the Deployment sets these). */
export interface ControllerOptions {
  /** Lease holder identity (POD_NAME; defaults to hostname-pid outside a pod). */
  readonly identity: string;
  /** Namespace of the Lease, the gossip key Secret and the weft-config ConfigMap (POD_NAMESPACE). */
  readonly namespace: string;
  /** net-conf file (WEFT_NET_CONF); undefined = read ConfigMap weft-config through the API. */
  readonly netConfPath: string | undefined;
  /** Health and metrics listener (WEFT_HTTP_ADDR). */
  readonly httpAddress: HttpAddress;
  /** KUBECONFIG; undefined = in-cluster service account. */
  readonly kubeconfigPath: string | undefined;
}

export { DEFAULT_NAMESPACE };
export const DEFAULT_HTTP_ADDR = '0.0.0.0:9744';

/** Parses the controller's environment or throws a ConfigError naming the variable. */
export function parseControllerEnv(env: Readonly<Record<string, string | undefined>>): ControllerOptions {
  const identity = nonEmpty(env.POD_NAME) ?? `${hostname()}-${process.pid}`;
  const namespace = nonEmpty(env.POD_NAMESPACE) ?? DEFAULT_NAMESPACE;
  if (!NAMESPACE_RE.test(namespace)) {
    throw new ConfigError('POD_NAMESPACE', namespace, 'not a valid namespace name');
  }
  return {
    identity,
    namespace,
    netConfPath: nonEmpty(env.WEFT_NET_CONF),
    httpAddress: parseHttpAddress('WEFT_HTTP_ADDR', nonEmpty(env.WEFT_HTTP_ADDR) ?? DEFAULT_HTTP_ADDR),
    kubeconfigPath: nonEmpty(env.KUBECONFIG),
  };
}

/** "host:port" (IPv6 hosts in brackets); port 0 picks a free port. */
export function parseHttpAddress(field: string, text: string): HttpAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (host === undefined || !Number.isInteger(port) || port > 65535) {
    throw new ConfigError(field, text, 'must be host:port, e.g. 0.0.0.0:9744');
  }
  return { host, port };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}
