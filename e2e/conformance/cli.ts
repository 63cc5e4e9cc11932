/**
 * `npm run conformance -- list|command|run`: the upstream sig-network e2e suite. `list`
 * dry-runs every selection and records its specs in specs.json; `command` prints the ginkgo
 * command line a run would use; `run` runs a selection against a real-node cluster of its own
 * (run.ts) and rewrites docs/conformance.md.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { errorMessage } from '../../common/errors.js';
import { createLogger } from '../../common/log.js';
import { repoRoot } from '../cluster/prereq.js';
import type { WeftBackend } from '../realnode/addons.js';
import { buildBinaries, conformanceDir } from './binaries.js';
import { buildRunCommand, formatCommand, junitReportPath } from './command.js';
import { listSelection, type SpecsFile } from './list.js';
import { runConformance } from './run.js';
import { ConformanceError, parseSelections, resolveSelection, type Selections } from './selections.js';

const USAGE = `usage: conformance list
       conformance command <selection> --kubeconfig FILE --report-dir DIR [--nodes 4] [--provider local]
       conformance run <selection> [--nodes 3] [--backend auto|vxlan|hostgw|wireguard] [--report-dir DIR] [--doc FILE|--no-doc] [--cluster NAME]`;

const here = conformanceDir;

async function loadSelections(): Promise<Selections> {
  return parseSelections(JSON.parse(await readFile(join(here(), 'selections.json'), 'utf8')));
}

async function list(): Promise<number> {
  const all = await loadSelections();
  const { testBinary } = await buildBinaries();
  const file: SpecsFile = {
    kubernetesVersion: all.kubernetesVersion,
    generatedBy: 'npm run conformance -- list (dry run of e2e-network.test; do not edit)',
    selections: {},
  };
  for (const name of Object.keys(all.selections)) {
    const specs = await listSelection(testBinary, resolveSelection(all, name));
    file.selections[name] = specs;
    process.stdout.write(`${name}: ${specs.count} specs selected, ${specs.excluded.length} excluded\n`);
  }
  const out = join(here(), 'specs.json');
  await writeFile(out, `${JSON.stringify(file, null, 2)}\n`);
  process.stdout.write(`wrote ${out}\n`);
  return 0;
}

async function command(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      kubeconfig: { type: 'string' },
      'report-dir': { type: 'string' },
      nodes: { type: 'string', default: '4' },
      provider: { type: 'string', default: 'local' },
    },
  });
  const [name] = positionals;
  const kubeconfig = values.kubeconfig;
  const reportDir = values['report-dir'];
  if (name === undefined || kubeconfig === undefined || reportDir === undefined) {
    throw new ConformanceError('EUSAGE', USAGE);
  }
  const selection = resolveSelection(await loadSelections(), name);
  const bins = await buildBinaries();
  const argv = buildRunCommand({
    ...bins,
    selection,
    nodes: Number(values.nodes),
    kubeconfig,
    reportDir,
    provider: values.provider,
  });
  process.stdout.write(`${formatCommand(argv)}\n# JUnit report: ${junitReportPath(reportDir)}\n`);
  return 0;
}

const BACKENDS: readonly WeftBackend[] = ['auto', 'vxlan', 'hostgw', 'wireguard'];

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      nodes: { type: 'string', default: '3' },
      backend: { type: 'string', default: 'auto' },
      'report-dir': { type: 'string' },
      doc: { type: 'string' },
      'no-doc': { type: 'boolean', default: false },
      cluster: { type: 'string' },
    },
  });
  const [name] = positionals;
  const backend = BACKENDS.find((b) => b === values.backend);
  if (name === undefined || backend === undefined) throw new ConformanceError('EUSAGE', USAGE);
  const reportDir = values['report-dir'] ?? join('/tmp/weft-conformance', `${name}-${backend}`);
  const docPath = values['no-doc'] ? undefined : (values.doc ?? join(repoRoot(), 'docs', 'conformance.md'));
  const r = await runConformance({
    selection: name,
    nodes: Number(values.nodes),
    backend,
    reportDir,
    ...(docPath === undefined ? {} : { docPath }),
    ...(values.cluster === undefined ? {} : { clusterName: values.cluster }),
    echo: process.stderr,
    log: createLogger('conformance', process.env.WEFT_E2E_LOG ?? 'info'),
  });
  for (const f of r.failed) process.stdout.write(`FAILED ${f.name}\n`);
  process.stdout.write(
    `conformance ${name} (backend ${backend}): ${r.passed} passed, ${r.failed.length} failed, ` +
      `${r.skipped} skipped themselves, in ${Math.round(r.durationSeconds)} s; report ${junitReportPath(reportDir)}` +
      `${docPath === undefined ? '' : `, ${docPath}`}\n`,
  );
  return r.failed.length === 0 && r.ginkgoExitCode === 0 ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'list':
      return list();
    case 'command':
      return command(rest);
    case 'run':
      return run(rest);
    default:
      process.stderr.write(`${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`conformance: ${errorMessage(err)}\n`);
    process.exit(1);
  },
);
