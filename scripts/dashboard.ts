/**
 * The Grafana dashboard (charts/weft/dashboards/weft.json) checked against the metric registries
 * that docs/metrics.md is generated from (pure): every metric a query names must be registered,
 * and every label it groups by must be one of that metric's labels or a Prometheus target label.
 */
import type { MetricInfo } from './metrics-doc.js';

export const DASHBOARD_PATH = 'charts/weft/dashboards/weft.json';

/** Labels every scraped series has or the queries may use besides the metric's own. */
const TARGET_LABELS = new Set(['instance', 'job', 'node', 'pod', 'namespace', 'le']);
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];

interface Panel {
  title?: string;
  targets?: Array<{ expr?: string }>;
  panels?: Panel[];
}
interface Dashboard {
  panels: Panel[];
  templating?: { list: Array<{ name: string; query?: string | { query?: string } }> };
}

export interface DashboardQuery {
  readonly where: string;
  readonly expr: string;
}

/** Every PromQL expression of the dashboard: panel targets (rows included) and template variables. */
export function dashboardQueries(json: string): DashboardQuery[] {
  const d = JSON.parse(json) as Dashboard;
  const out: DashboardQuery[] = [];
  const walk = (panels: Panel[]): void => {
    for (const p of panels) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ where: `panel "${p.title}"`, expr: t.expr });
      walk(p.panels ?? []);
    }
  };
  walk(d.panels);
  for (const v of d.templating?.list ?? []) {
    const q = typeof v.query === 'string' ? v.query : v.query?.query;
    if (q?.includes('weft_')) out.push({ where: `variable $${v.name}`, expr: q });
  }
  return out;
}

/** The registered metric a series name belongs to (a histogram's _bucket/_sum/_count included). */
function metricOf(series: string, metrics: ReadonlyMap<string, MetricInfo>): MetricInfo | undefined {
  const direct = metrics.get(series);
  if (direct) return direct;
  const suffix = HISTOGRAM_SUFFIXES.find((s) => series.endsWith(s));
  const base = suffix ? metrics.get(series.slice(0, -suffix.length)) : undefined;
  return base?.type === 'histogram' ? base : undefined;
}

/** What is wrong with the queries against the registered metrics (empty: all good). */
export function dashboardProblems(
  queries: readonly DashboardQuery[],
  registered: readonly MetricInfo[],
): string[] {
  const metrics = new Map(registered.map((m) => [m.name, m]));
  const problems: string[] = [];
  for (const q of queries) {
    const names = [...q.expr.matchAll(/\bweft_[a-z0-9_]+/g)].map((m) => m[0]);
    if (names.length === 0) problems.push(`${q.where}: queries no weft_ metric: ${q.expr}`);
    const used: MetricInfo[] = [];
    for (const n of names) {
      const m = metricOf(n, metrics);
      if (m) used.push(m);
      else problems.push(`${q.where}: ${n} is not a registered metric`);
    }
    const labels = new Set([...TARGET_LABELS, ...used.flatMap((m) => m.labelNames)]);
    for (const g of q.expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) {
      for (const l of (g[1] ?? '').split(',').map((s) => s.trim())) {
        if (l !== '' && !labels.has(l))
          problems.push(`${q.where}: groups by ${l}, a label none of ${names.join(', ')} has`);
      }
    }
  }
  return problems;
}
