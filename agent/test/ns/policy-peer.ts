/**
 * A tiny TCP peer for the NetworkPolicy namespace test, run inside a pod netns
 * (`ip netns exec <pod> node policy-peer.js …`):
 *   serve <port>…           echo server on every port (IPv4 and IPv6), one line "listening" when ready
 *   probe <ip> <port> <ms>  connect, send, await the echo: exit 0, else exit 1
 *   stream <ip> <port>      one connection; for each stdin line sends it and prints
 *                           "ok" when the echo arrives within 1 s, else "timeout"
 */
import { connect, createServer, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

const [mode, ...args] = process.argv.slice(2);

function serve(ports: number[]): void {
  let ready = 0;
  for (const port of ports) {
    // "::" with ipv6Only off: one socket for both families (dual-stack pods).
    const server = createServer((s) => s.pipe(s).on('error', () => undefined));
    server.listen({ port, host: '::', ipv6Only: false }, () => {
      if (++ready === ports.length) process.stdout.write('listening\n');
    });
  }
}

function probe(ip: string, port: number, ms: number): void {
  const s = connect({ host: ip, port });
  const fail = () => process.exit(1);
  const timer = setTimeout(fail, ms);
  s.on('error', fail);
  s.on('connect', () => s.write('x'));
  s.on('data', () => {
    clearTimeout(timer);
    process.exit(0);
  });
}

function stream(ip: string, port: number): void {
  const s: Socket = connect({ host: ip, port });
  let waiting: NodeJS.Timeout | undefined;
  s.on('error', () => undefined);
  s.on('data', () => {
    if (!waiting) return;
    clearTimeout(waiting);
    waiting = undefined;
    process.stdout.write('ok\n');
  });
  s.on('connect', () => process.stdout.write('connected\n'));
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line === 'quit') process.exit(0);
    s.write(line);
    waiting = setTimeout(() => {
      waiting = undefined;
      process.stdout.write('timeout\n');
    }, 1000);
  });
}

if (mode === 'serve') serve(args.map(Number));
else if (mode === 'probe') probe(args[0] as string, Number(args[1]), Number(args[2] ?? 1000));
else if (mode === 'stream') stream(args[0] as string, Number(args[1]));
else {
  process.stderr.write('usage: policy-peer serve|probe|stream …\n');
  process.exit(2);
}
