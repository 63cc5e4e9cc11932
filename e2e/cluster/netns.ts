import { runChecked, runCommand } from './exec.js';

/** Names of all network namespaces on the machine (`ip netns list`; ids after the name are dropped). */
export async function listNetns(): Promise<string[]> {
  const out = await runChecked(['ip', 'netns', 'list']);
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n !== '');
}

export async function addNetns(name: string): Promise<void> {
  await runChecked(['ip', 'netns', 'add', name]);
}

/** Deletes a namespace; a missing one is not an error (teardown is idempotent). */
export async function deleteNetns(name: string): Promise<void> {
  const r = await runCommand(['ip', 'netns', 'delete', name]);
  if (r.code !== 0 && !/No such file|not found|does not exist/i.test(r.stderr)) {
    throw new Error(`ip netns delete ${name}: ${r.stderr.trim()}`);
  }
}

/** Pids of the processes inside `name` (none when the namespace is gone). */
export async function listNetnsPids(name: string): Promise<number[]> {
  const r = await runCommand(['ip', 'netns', 'pids', name]);
  if (r.code !== 0) return [];
  return r.stdout
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}
