/** A packet capture inside a network namespace, for tests that check what crosses a wire. */
import { spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { run } from './netns-helpers.js';

/** Packets tcpdump saw on `dev` in `ns` while `body` ran: the pcap bytes and tcpdump's text of them. */
export async function captureOn(
  ns: string,
  dev: string,
  dir: string,
  body: () => Promise<void>,
  filter = 'ip or ip6',
): Promise<{ raw: Buffer; text: string }> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${ns}-${dev}.pcap`);
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      ns,
      'tcpdump',
      '-Z',
      'root',
      '--immediate-mode',
      '-i',
      dev,
      '-n',
      '-U',
      '-w',
      file,
      filter,
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      const lines = createInterface({ input: child.stderr });
      lines.on('line', (l) => l.includes('listening on') && resolve());
      child.once('exit', (code) => reject(new Error(`tcpdump exited (${code}) before it listened`)));
    });
    await body();
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    child.kill('SIGINT');
    await exited;
  }
  const raw = await readFile(file);
  return { raw, text: await run('tcpdump', ['-r', file, '-n', '-q']) };
}
