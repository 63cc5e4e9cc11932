import { type ChildProcess, spawn } from 'node:child_process';
import { run } from '../../agent/test/ns/netns-helpers.js';

/**
 * Traffic generators run inside namespaces: iperf3 (TCP streams, UDP packet
 * rate) and sockperf (TCP request/response round trips). Parsers are pure.
 */

/** Receiver-side figures of one iperf3 run. */
export interface IperfResult {
  readonly gbps: number;
  /** Packets per second received (UDP only). */
  readonly pps?: number;
  /** Fraction of UDP datagrams lost (UDP only). */
  readonly lossRatio?: number;
  /** The client's connections as iperf3 reports them (`start.connected`), when it does. */
  readonly connected?: readonly { readonly local: string; readonly remote: string }[];
  /** TCP maximum segment size the client's sockets got (`start.tcp_mss_default`), when reported. */
  readonly mss?: number;
}

interface IperfJson {
  error?: string;
  start?: {
    connected?: { local_host?: string; remote_host?: string }[];
    tcp_mss_default?: number;
  };
  end?: {
    sum_received?: { bits_per_second?: number; seconds?: number };
    sum?: { bits_per_second?: number; packets?: number; lost_packets?: number; seconds?: number };
  };
}

/** Where the client connected and its MSS (fields absent when iperf3 left them out). */
function iperfStart(j: IperfJson): Pick<IperfResult, 'connected' | 'mss'> {
  const c = j.start?.connected;
  const mss = j.start?.tcp_mss_default;
  return {
    ...(c ? { connected: c.map((x) => ({ local: x.local_host ?? '', remote: x.remote_host ?? '' })) } : {}),
    ...(typeof mss === 'number' ? { mss } : {}),
  };
}

/**
 * Parses `iperf3 -J` output: receiver throughput for TCP, received packets per second for UDP,
 * and where the client connected.
 */
export function parseIperfJson(text: string, udp: boolean): IperfResult {
  const j = JSON.parse(text) as IperfJson;
  if (j.error) throw new Error(`iperf3: ${j.error}`);
  const start = iperfStart(j);
  if (udp) {
    const sum = j.end?.sum;
    if (!sum || typeof sum.packets !== 'number' || typeof sum.seconds !== 'number' || sum.seconds <= 0) {
      throw new Error('iperf3 UDP result lacks end.sum.packets/seconds');
    }
    const got = sum.packets - (sum.lost_packets ?? 0);
    return {
      ...start,
      gbps: (sum.bits_per_second ?? 0) / 1e9,
      pps: got / sum.seconds,
      lossRatio: sum.packets > 0 ? (sum.lost_packets ?? 0) / sum.packets : 0,
    };
  }
  const bps = j.end?.sum_received?.bits_per_second;
  if (typeof bps !== 'number') throw new Error('iperf3 TCP result lacks end.sum_received.bits_per_second');
  return { ...start, gbps: bps / 1e9 };
}

/** Round-trip percentiles in microseconds from a sockperf ping-pong run. */
export interface RttResult {
  readonly p50Us: number;
  readonly p99Us: number;
  readonly observations: number;
}

/** Parses `sockperf ping-pong --full-rtt` text output (ANSI colour codes allowed). */
export function parseSockperf(text: string): RttResult {
  const plain = text.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
  const pct = (p: string) => {
    const m = new RegExp(`percentile ${p.replace('.', '\\.')}\\s*=\\s*([0-9.]+)`).exec(plain);
    if (!m) throw new Error(`sockperf output lacks percentile ${p}`);
    return Number(m[1]);
  };
  const obs = /Total (\d+) observations/.exec(plain);
  if (!obs) throw new Error('sockperf output lacks the observation count');
  return { p50Us: pct('50.000'), p99Us: pct('99.000'), observations: Number(obs[1]) };
}

/** A server process in a namespace; `stop()` ends it (idempotent). */
export class NsServer {
  private constructor(private readonly child: ChildProcess) {}

  static async start(ns: string, argv: readonly string[], readyAfterMs = 300): Promise<NsServer> {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: 'ignore' });
    const server = new NsServer(child);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, readyAfterMs);
      child.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`${argv.join(' ')} in ${ns} exited early (code ${code})`));
      });
    });
    return server;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(t);
  }
}

export interface IperfOptions {
  readonly seconds: number;
  readonly streams?: number;
  readonly udp?: boolean;
  readonly port: number;
}

/** One iperf3 client run from `ns` to `ip` (a server must listen on `port`). */
export async function runIperf(ns: string, ip: string, o: IperfOptions): Promise<IperfResult> {
  const args = ['-c', ip, '-p', String(o.port), '-t', String(o.seconds), '-J'];
  if (o.streams && o.streams > 1) args.push('-P', String(o.streams));
  if (o.udp) args.push('-u', '-b', '0', '-l', '1400');
  // `timeout` guards against a client that hangs when its server or namespace goes away.
  const out = await run('ip', ['netns', 'exec', ns, 'timeout', String(o.seconds + 30), 'iperf3', ...args]);
  return parseIperfJson(out, o.udp === true);
}

/** Runs one measurement, retrying once (a shared machine occasionally drops an iperf3 control connection). */
export async function retryOnce<T>(
  what: string,
  log: (msg: string) => void,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    log(`${what} failed once, retrying: ${(err as Error).message}`);
    await new Promise((r) => setTimeout(r, 500));
    return fn();
  }
}

/** `taskset -c <cpu>` to pin a command, or nothing. */
export function pinTo(cpu: number | undefined): string[] {
  return cpu === undefined ? [] : ['taskset', '-c', String(cpu)];
}

/**
 * One sockperf TCP ping-pong run of `seconds` from `ns` to `ip:port` (server:
 * sockperf sr), pinned to `cpu` when given.
 */
export async function runSockperf(
  ns: string,
  ip: string,
  port: number,
  seconds: number,
  cpu?: number,
): Promise<RttResult> {
  const out = await run('ip', [
    'netns',
    'exec',
    ns,
    ...pinTo(cpu),
    'timeout',
    String(seconds + 30),
    'sockperf',
    'ping-pong',
    '--tcp',
    '-i',
    ip,
    '-p',
    String(port),
    '-t',
    String(seconds),
    '-m',
    '64',
    '--full-rtt',
  ]);
  return parseSockperf(out);
}
