/**
 * The connectivity checks from a shell, against any cluster kubectl reaches (e2e/kind/run.sh
 * uses it; the local real-node cluster runs the same function from its e2e test and the demo):
 *
 *   node dist/e2e/checks/cli.js [--kubeconfig FILE] [--external-url http://host:port/clientip]
 *
 * The workloads are e2e/workloads/checks.yaml, applied and rolled out beforehand. Prints one
 * line per check; exits 1 when any fails.
 */
import { execFile } from 'node:child_process';
import { parseArgs } from 'node:util';
import { parseNodeIps, runConnectivityChecks } from './connectivity.js';

function kubectlWith(kubeconfig: string | undefined) {
  return (args: string[]) =>
    new Promise<string>((resolve, reject) => {
      const full = kubeconfig === undefined ? args : [`--kubeconfig=${kubeconfig}`, ...args];
      execFile('kubectl', full, { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
        err
          ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr.trim() || err.message}`))
          : resolve(stdout),
      );
    });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { kubeconfig: { type: 'string' }, 'external-url': { type: 'string' } },
    strict: true,
  });
  const kubectl = kubectlWith(values.kubeconfig);
  const nodeIps = parseNodeIps(await kubectl(['get', 'nodes', '-o', 'json']));
  const opts =
    values['external-url'] === undefined ? { nodeIps } : { nodeIps, externalUrl: values['external-url'] };
  const results = await runConnectivityChecks(kubectl, opts);
  for (const r of results) process.stdout.write(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.detail}\n`);
  const failed = results.filter((r) => !r.ok).length;
  process.stdout.write(`${results.length - failed} passed, ${failed} failed\n`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`checks: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
