/**
 * `| render` → the `render` object the Log Analytics / App Insights query API returns with
 * `Prefer: include-render=true`. Documented shape (learn.microsoft.com, azure-monitor/logs/api/prefer-options):
 * `{ visualization, title, accumulate: false, isQuerySorted: false, kind: "default", annotation: "", by: null }`.
 * Those seven keys are always present; further `with (…)` properties are added under the camelCase
 * names below (inferred from Kusto's property names; the service's exact spelling is not documented).
 * `isQuerySorted` is true when render directly follows sort/order/top (inferred, not documented).
 */

/** Visualizations Kusto accepts in `render`. */
export const RENDER_VISUALIZATIONS: ReadonlySet<string> = new Set([
  'anomalychart', 'areachart', 'barchart', 'card', 'columnchart', 'ladderchart', 'linechart', 'piechart', 'pivotchart', 'plotly',
  'sankey', 'scatterchart', 'stackedareachart', 'table', 'timechart', 'timepivot', 'treemap', 'graph',
]);

/** Kusto `with (…)` property → response key. */
const PROPERTY_KEYS: Record<string, string> = {
  title: 'title', kind: 'kind', accumulate: 'accumulate', series: 'series', xcolumn: 'xColumn', ycolumns: 'yColumns',
  anomalycolumns: 'anomalyColumns', xtitle: 'xTitle', ytitle: 'yTitle', xaxis: 'xAxis', yaxis: 'yAxis', legend: 'legend',
  ysplit: 'ySplit', xmin: 'xmin', xmax: 'xmax', ymin: 'ymin', ymax: 'ymax',
};

export const RENDER_PROPERTIES: ReadonlySet<string> = new Set(Object.keys(PROPERTY_KEYS));

/** `render` as compiled (`{ visualization, …with-properties }`) → the query API's `render` object. */
export function renderResponse(render: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {
    visualization: render.visualization,
    title: null,
    accumulate: false,
    isQuerySorted: false,
    kind: 'default',
    annotation: '',
    by: null,
  };
  for (const [name, value] of Object.entries(render)) {
    if (name === 'visualization') continue;
    out[PROPERTY_KEYS[name.toLowerCase()] ?? name] = value;
  }
  return out;
}
