import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { barChartSpec, renderBarChartSvg } from './charts.js';

const chart = {
  title: 'Throughput vs node→node',
  axisTitle: 'ratio',
  data: [
    { group: 'weft-hostgw', series: 'TCP ×1', median: 0.93, min: 0.9, max: 0.97 },
    { group: 'weft-vxlan', series: 'TCP ×1', median: 0.81, min: 0.78, max: 0.84 },
  ],
  rules: [{ value: 0.9, label: 'target' }],
};

describe('bench charts', () => {
  it('spec keeps the group order and draws the reference rule', () => {
    const spec = barChartSpec(chart) as unknown as { layer: { encoding: { y?: { sort?: string[] } } }[] };
    assert.deepEqual(spec.layer[0]?.encoding.y?.sort, ['weft-hostgw', 'weft-vxlan']);
    assert.equal(spec.layer.length, 3);
  });

  it('renders SVG with the title and every group label', async () => {
    const svg = await renderBarChartSvg(chart);
    assert.match(svg, /^<svg /);
    assert.match(svg, /Throughput vs node→node/);
    assert.match(svg, /weft-hostgw/);
    assert.match(svg, /weft-vxlan/);
  });
});
