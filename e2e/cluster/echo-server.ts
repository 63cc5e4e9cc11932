/**
 * A tiny HTTP server inside any namespace of the local cluster that answers every
 * request with the client address it sees — how the e2e and the demo tell whether
 * traffic arrived masqueraded (node IP) or with the pod's own source IP.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { NODE_BIN } from './agents.js';
import type { Cluster } from './cluster.js';

const SCRIPT = `
const port = Number(process.argv[1]);
const server = require('node:http').createServer((req, res) => res.end(req.socket.remoteAddress.replace(/^::ffff:/, '')));
server.listen(port, process.argv[2], () => process.stdout.write('listening\\n'));
process.on('SIGTERM', () => process.exit(0));
`;

export interface EchoServer {
  readonly netns: string;
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * Starts the server in `netns` on `port`; resolves once it listens. `host` '::' serves both
 * families (IPv4 clients are seen as their IPv4 address), the default '0.0.0.0' IPv4 only.
 */
export function startEchoServer(
  netns: string,
  port: number,
  timeoutMs = 10_000,
  host: '0.0.0.0' | '::' = '0.0.0.0',
): Promise<EchoServer> {
  const child: ChildProcess = spawn(
    'ip',
    ['netns', 'exec', netns, NODE_BIN, '-e', SCRIPT, String(port), host],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`echo server in ${netns}:${port} did not listen within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.stderr?.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    child.stdout?.on('data', (b: Buffer) => {
      if (!b.toString().includes('listening')) return;
      clearTimeout(timer);
      resolve({ netns, port, stop });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`echo server in ${netns}:${port} exited (${code}): ${stderr}`));
    });
  });
}

/** From inside `netns`, asks the echo server at ip:port which address it sees; undefined on failure. */
export async function seenSource(
  cluster: Cluster,
  netns: string,
  ip: string,
  port: number,
): Promise<string | undefined> {
  const host = ip.includes(':') ? `[${ip}]` : ip;
  const r = await cluster.execInNode(netns, ['curl', '-s', '-m', '3', `http://${host}:${port}/`]);
  return r.code === 0 ? r.stdout.trim() : undefined;
}
