/** Small Markdown formatting helpers for the benchmark report (pure). */

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function isSpread(x: unknown): x is Spread {
  return typeof x === 'object' && x !== null && typeof (x as Spread).median === 'number';
}

/** A number with sensible precision (3 significant digits below 100, integers above). */
export function num(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  if (Math.abs(x) >= 100) return Math.round(x).toLocaleString('en-US');
  return String(Number(x.toPrecision(3)));
}

/** `median [min–max]`, or just the median when all repetitions agree or there was one. */
export function spread(s: Spread | undefined, scale = 1): string {
  if (!s) return '–';
  const [m, lo, hi] = [s.median * scale, s.min * scale, s.max * scale];
  return lo === hi || !Number.isFinite(lo) ? num(m) : `${num(m)} [${num(lo)}–${num(hi)}]`;
}

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** A value of a benchmark summary object as a table cell (spreads, numbers, strings; objects as key=value). */
export function cell(x: unknown): string {
  if (isSpread(x)) return spread(x);
  if (typeof x === 'number') return num(x);
  if (typeof x === 'string' || typeof x === 'boolean') return String(x);
  if (Array.isArray(x)) return x.map(cell).join(', ');
  if (x && typeof x === 'object') {
    return Object.entries(x)
      .map(([k, v]) => `${k}=${cell(v)}`)
      .join(' ');
  }
  return '–';
}

/** A table of objects: one row each, columns = the union of their keys (in first-seen order). */
export function objectsTable(rows: readonly Record<string, unknown>[], skip: readonly string[] = []): string {
  const keys: string[] = [];
  for (const r of rows)
    for (const k of Object.keys(r)) if (!keys.includes(k) && !skip.includes(k)) keys.push(k);
  return table(
    keys,
    rows.map((r) => keys.map((k) => cell(r[k]))),
  );
}
