/**
 * `npm run conformance -- list|command`: the upstream sig-network e2e suite without a
 * cluster yet. `list` dry-runs every selection and records its specs in specs.json;
 * `command` prints the ginkgo command line a run would use. Running against the
 * real-node cluster is wired once that harness exists.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { errorMessage } from '../../common/errors.js';
import { repoRoot } from '../cluster/prereq.js';
import { buildRunCommand, formatCommand, junitReportPath } from './command.js';
import { listSelection, type SpecsFile } from './list.js';
import { ConformanceError, parseSelections, resolveSelection, type Selections } from './selections.js';

const USAGE = `usage: conformance list
       conformance command <selection> --kubeconfig FILE --report-dir DIR [--nodes 4] [--provider local]`;

const here = (): string => join(repoRoot(), 'e2e', 'conformance');

/** Runs build.sh (its progress on our stderr) and returns the directory it prints last. */
function buildBinaries(): Promise<{ testBinary: string; ginkgo: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(here(), 'build.sh')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.on('error', (e) => reject(new ConformanceError('EBUILD', `cannot run build.sh: ${e.message}`)));
    child.on('close', (code) => {
      const dir = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || dir === '') reject(new ConformanceError('EBUILD', `build.sh exited ${code}`));
      else resolve({ testBinary: join(dir, 'e2e-network.test'), ginkgo: join(dir, 'ginkgo') });
    });
  });
}

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

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'list':
      return list();
    case 'command':
      return command(rest);
    default:
      process.stderr.write(
        `conformance: running against a cluster is not wired yet (the real-node harness is not ready)\n${USAGE}\n`,
      );
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
