/**
 * A byte forwarder that carries the admin endpoint out of the control-plane namespace
 * without any address or route in the root namespace. Two instances run per cluster:
 *
 *   root netns:  127.0.0.1:<port>  --tcp-->unix-->  <runDir>/apiserver.sock
 *   cp netns:    <runDir>/apiserver.sock  --unix-->tcp-->  127.0.0.1:6443 (kube-apiserver)
 *
 * A filesystem unix socket is reachable from every network namespace, which is what
 * makes the hop possible. TLS passes through untouched (the serving cert covers 127.0.0.1).
 *
 *   node forwarder.js tcp-to-unix <port|0> <socket> <portFile>
 *   node forwarder.js unix-to-tcp <socket> <host> <port>
 */
import { chmodSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { FORWARDER_EXIT_PORT_IN_USE } from './processes.js';

const EXIT_USAGE = 2;

function splice(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  const close = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', close).on('close', close);
  b.on('error', close).on('close', close);
}

function tcpToUnix(port: number, socketPath: string, portFile: string): Server {
  const server = createServer((client) => splice(client, connect(socketPath)));
  server.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EADDRINUSE') {
      process.stderr.write(`forwarder: 127.0.0.1:${port} is already in use; choose another --admin-port\n`);
      process.exit(FORWARDER_EXIT_PORT_IN_USE);
    }
    process.stderr.write(`forwarder: ${err.message}\n`);
    process.exit(1);
  });
  server.listen(port, '127.0.0.1', () => {
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('unexpected listener address');
    writeFileSync(`${portFile}.tmp`, `${addr.port}\n`);
    renameSync(`${portFile}.tmp`, portFile);
    process.stderr.write(`forwarder: 127.0.0.1:${addr.port} -> ${socketPath}\n`);
  });
  return server;
}

function unixToTcp(socketPath: string, host: string, port: number): Server {
  rmSync(socketPath, { force: true });
  const server = createServer((client) => splice(client, connect(port, host)));
  server.on('error', (err) => {
    process.stderr.write(`forwarder: ${err.message}\n`);
    process.exit(1);
  });
  server.listen(socketPath, () => {
    chmodSync(socketPath, 0o600);
    process.stderr.write(`forwarder: ${socketPath} -> ${host}:${port}\n`);
  });
  return server;
}

function main(argv: string[]): void {
  const [mode, a, b, c] = argv;
  let server: Server;
  if (mode === 'tcp-to-unix' && a && b && c) server = tcpToUnix(Number(a), b, c);
  else if (mode === 'unix-to-tcp' && a && b && c) server = unixToTcp(a, b, Number(c));
  else {
    process.stderr.write(
      'usage: forwarder tcp-to-unix <port> <socket> <portFile> | unix-to-tcp <socket> <host> <port>\n',
    );
    process.exit(EXIT_USAGE);
  }
  const stop = () => {
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main(process.argv.slice(2));
