/**
 * Renders docs/metrics.md from the metrics the code registers, so the reference
 * cannot drift from the code (scripts/metrics-doc.test.ts fails when they differ).
 * Run `node dist/scripts/metrics-doc.js --write` to regenerate.
 */
import { writeFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { CniMetrics } from '../agent/src/cni/metrics.js';
import { DatapathMetrics } from '../agent/src/datapath/metrics.js';
import { createGossipMetrics } from '../agent/src/gossip/metrics.js';
import { createAgentRegistry } from '../agent/src/metrics.js';
import { PolicyMetrics } from '../agent/src/policy/metrics.js';
import { ReconcileMetrics } from '../agent/src/reconcile/metrics.js';
import { WireguardMetrics } from '../agent/src/wireguard/metrics.js';
import { createControllerMetrics } from '../controller/src/metrics.js';

export interface MetricInfo {
  name: string;
  help: string;
  type: string;
  labelNames: readonly string[];
}

export function weftMetrics(registry: Registry): MetricInfo[] {
  return registry
    .getMetricsAsArray()
    .map((m) => m as unknown as MetricInfo)
    .filter((m) => m.name.startsWith('weft_'))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function agentRegistryForDocs(): Registry {
  const registry = createAgentRegistry('docs');
  new DatapathMetrics(registry);
  new ReconcileMetrics(registry);
  new CniMetrics(registry, () => []);
  createGossipMetrics(registry);
  new PolicyMetrics(registry, async () => new Map());
  new WireguardMetrics(registry, 'none');
  return registry;
}

export function controllerRegistryForDocs(): Registry {
  const registry = new Registry();
  createControllerMetrics(registry, { version: 'docs' });
  return registry;
}

function table(metrics: MetricInfo[]): string {
  const rows = metrics.map((m) => {
    const labels = m.labelNames.length ? m.labelNames.map((l) => `\`${l}\``).join(', ') : '';
    return `| \`${m.name}\` | ${m.type} | ${labels} | ${m.help.replace(/\|/g, '\\|')} |`;
  });
  return ['| name | type | labels | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

export function renderMetricsReference(): string {
  return `# Metrics reference

Generated from the code by \`node dist/scripts/metrics-doc.js --write\`; a test fails when this
page and the code differ. Both processes also export the Node.js process metrics of prom-client
(\`process_*\`, \`nodejs_*\`). Every metric lives in the process's own registry.

## weft-agent (\`:9742/metrics\`)

${table(weftMetrics(agentRegistryForDocs()))}

## weft-controller (\`:9744/metrics\`)

${table(weftMetrics(controllerRegistryForDocs()))}
`;
}

const DOC = new URL('../../docs/metrics.md', import.meta.url);

if (process.argv.includes('--write')) {
  writeFileSync(DOC, renderMetricsReference());
  process.stdout.write(`wrote ${DOC.pathname}\n`);
}

export { DOC as METRICS_DOC_URL };
