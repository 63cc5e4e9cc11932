/**
 * The latency figures of one client → server pair, as the pod benchmarks take
 * them: `rttRounds` sockperf ping-pong runs on an established connection (the
 * median of their p50/p99) and `connections` timed new connections with
 * lib/tcp-crr.c (connect, one byte echoed, close; p50/p99). Both ends of each
 * are pinned to `rttCpu` when given (see lib/bench-args.ts rttCpuFlag).
 */
import { median, quantile } from './stats.js';
import { runTcpCrr } from './tcp-crr.js';
import { retryOnce, runSockperf } from './traffic.js';

export interface RoundTripOptions {
  readonly rttSeconds: number;
  readonly rttRounds: number;
  readonly connections: number;
  readonly rttCpu: number | undefined;
}

export interface RoundTrips {
  readonly rttP50Us: number;
  readonly rttP99Us: number;
  readonly connectP50Us: number;
  readonly connectP99Us: number;
}

/** Round trips from namespace `ns` to `ip` (sockperf server on `ports.sockperf`, tcp-crr echo on `ports.echo`). */
export async function measureRoundTrips(
  ns: string,
  ip: string,
  ports: { readonly sockperf: number; readonly echo: number },
  o: RoundTripOptions,
  crr: string,
  what: string,
  log: (msg: string) => void,
): Promise<RoundTrips> {
  const p50: number[] = [];
  const p99: number[] = [];
  for (let r = 0; r < o.rttRounds; r++) {
    const rtt = await retryOnce(`${what} rtt`, log, () =>
      runSockperf(ns, ip, ports.sockperf, o.rttSeconds, o.rttCpu),
    );
    p50.push(rtt.p50Us);
    p99.push(rtt.p99Us);
  }
  const conn = await retryOnce(`${what} connect`, log, () =>
    runTcpCrr(crr, ns, ip, ports.echo, o.connections, o.rttCpu),
  );
  return {
    rttP50Us: median(p50),
    rttP99Us: median(p99),
    connectP50Us: quantile(conn, 0.5),
    connectP99Us: quantile(conn, 0.99),
  };
}
