import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** One bar: the median of a series within a group, with its min–max spread. */
export interface BarDatum {
  readonly group: string;
  readonly series: string;
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export interface BarChart {
  readonly title: string;
  readonly axisTitle: string;
  readonly data: readonly BarDatum[];
  /** Optional vertical reference lines (e.g. a target ratio). */
  readonly rules?: readonly { value: number; label: string }[];
}

/** The Vega-Lite spec of a grouped horizontal bar chart with min–max whiskers (pure). */
export function barChartSpec(c: BarChart): TopLevelSpec {
  const groups = [...new Set(c.data.map((d) => d.group))];
  const y = { field: 'group', type: 'nominal' as const, sort: groups, title: null };
  const color = {
    field: 'series',
    type: 'nominal' as const,
    title: null,
    legend: { orient: 'bottom' as const },
  };
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: c.title,
    width: 520,
    height: { step: 14 },
    data: { values: c.data.map((d) => ({ ...d })) },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          y,
          yOffset: { field: 'series', type: 'nominal' },
          x: { field: 'median', type: 'quantitative', title: c.axisTitle },
          color,
        },
      },
      {
        mark: { type: 'rule', color: 'black' },
        encoding: {
          y,
          yOffset: { field: 'series', type: 'nominal' },
          x: { field: 'min', type: 'quantitative' },
          x2: { field: 'max' },
        },
      },
      ...(c.rules ?? []).map((r) => ({
        data: { values: [r] },
        mark: { type: 'rule' as const, strokeDash: [4, 3], color: 'grey' },
        encoding: { x: { field: 'value', type: 'quantitative' as const } },
      })),
    ],
  };
  return spec as unknown as TopLevelSpec;
}

/** Renders a bar chart to SVG headless (Vega's SVG renderer, no canvas needed). */
export async function renderBarChartSvg(c: BarChart): Promise<string> {
  const view = new View(parse(compile(barChartSpec(c)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
