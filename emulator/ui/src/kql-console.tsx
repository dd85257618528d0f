import { useMemo, useRef, useState } from 'preact/hooks';
import { QueryError, records, runQuery, type QueryResult } from './api.js';
import { BarChart, PieChart, TimeChart, type Series } from './charts.js';
import { SelectField } from './field.js';
import { EXAMPLES, TABLES } from './queries.js';
import { TIME_RANGES, toMs, useAsync } from './use-async.js';

const NO_RANGE = '';

export function KqlConsole() {
  const [text, setText] = useState(EXAMPLES[0]!.query);
  const [range, setRange] = useState<string>('P1D');
  const [result, setResult] = useState<{ result?: QueryResult; error?: QueryError | Error; ms?: number; ran?: string }>({});
  const [running, setRunning] = useState(false);
  const editor = useRef<HTMLTextAreaElement>(null);
  const schema = useAsync(async () => {
    const tables = await Promise.all(
      TABLES.map(async (table) => ({ table, columns: records(await runQuery(`${table} | getschema`)).map((c) => ({ name: String(c.ColumnName), type: String(c.ColumnType) })) })),
    );
    return tables;
  }, []);

  const run = async () => {
    const query = editor.current?.value ?? text;
    setRunning(true);
    const started = performance.now();
    try {
      const r = await runQuery(query, range || undefined);
      setResult({ result: r, ms: performance.now() - started, ran: query });
    } catch (error) {
      setResult({ error: error instanceof Error ? error : new Error(String(error)), ran: query });
      if (error instanceof QueryError && error.line !== undefined && error.pos !== undefined) {
        const at = offsetOf(query, error.line, error.pos);
        editor.current?.focus();
        editor.current?.setSelectionRange(at, at + Math.max(1, error.token?.length ?? 1));
      }
    } finally {
      setRunning(false);
    }
  };
  const insert = (word: string) => {
    const el = editor.current;
    if (!el) return;
    const { selectionStart: s, selectionEnd: e } = el;
    const next = el.value.slice(0, s) + word + el.value.slice(e);
    setText(next);
    el.value = next;
    el.focus();
    el.setSelectionRange(s + word.length, s + word.length);
  };

  const error = result.error;
  return (
    <section class="view logs" aria-label="KQL console">
      <aside class="schema" aria-label="Tables and columns">
        <h2>Tables</h2>
        {schema.error ? <p class="error">{schema.error.message}</p> : null}
        {(schema.value ?? []).map(({ table, columns }) => (
          <details key={table}>
            <summary>
              <button type="button" class="link" onClick={() => insert(table)} title={`Insert ${table}`}>
                {table}
              </button>
            </summary>
            <ul>
              {columns.map((c) => (
                <li key={c.name}>
                  <button type="button" class="link" onClick={() => insert(c.name)}>
                    {c.name}
                  </button>{' '}
                  <span class="type">{c.type}</span>
                </li>
              ))}
            </ul>
          </details>
        ))}
        <h2>Examples</h2>
        <ul class="examples">
          {EXAMPLES.map((ex) => (
            <li key={ex.title}>
              <button
                type="button"
                class="link"
                onClick={() => {
                  setText(ex.query);
                  if (editor.current) editor.current.value = ex.query;
                }}
              >
                {ex.title}
              </button>
            </li>
          ))}
        </ul>
      </aside>
      <div class="console">
        <div class="toolbar">
          <button type="button" class="primary" onClick={run} disabled={running}>
            {running ? 'Running…' : 'Run'}
          </button>
          <span class="hint">Ctrl+Enter</span>
          <SelectField label="Time range" value={range} onChange={(v) => setRange(v)}>
            <option value={NO_RANGE}>Set in query</option>
            {TIME_RANGES.map((t) => (
              <option key={t.value} value={t.value}>
                {t.label}
              </option>
            ))}
          </SelectField>
        </div>
        <label class="sr-only" for="kql-editor">
          Query
        </label>
        <textarea
          id="kql-editor"
          ref={editor}
          class="editor"
          spellcheck={false}
          rows={10}
          value={text}
          aria-invalid={error ? 'true' : 'false'}
          aria-describedby={error ? 'kql-error' : undefined}
          onInput={(e) => setText(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              void run();
            }
          }}
        />
        {error ? <ErrorPanel error={error} query={result.ran ?? text} /> : null}
        {result.result ? <Results result={result.result} ms={result.ms ?? 0} /> : null}
      </div>
    </section>
  );
}

/** (1-based line, 0-based position in the line, as the Kusto service reports them) → offset in the text. */
function offsetOf(text: string, line: number, pos: number): number {
  const lines = text.split('\n');
  let offset = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i]!.length + 1;
  return Math.min(text.length, offset + Math.max(0, pos));
}

function ErrorPanel({ error, query }: { error: Error; query: string }) {
  const positioned = error instanceof QueryError && error.line !== undefined && error.pos !== undefined;
  const qe = error as QueryError;
  const lineText = positioned ? (query.split('\n')[qe.line! - 1] ?? '') : '';
  const start = positioned ? Math.min(lineText.length, qe.pos!) : 0;
  const length = Math.max(1, Math.min(lineText.length - start, qe.token?.length ?? 1));
  return (
    <div id="kql-error" class="error-panel" role="alert" data-line={positioned ? qe.line : undefined} data-pos={positioned ? qe.pos : undefined}>
      <strong>{error instanceof QueryError ? error.code : 'Error'}</strong> {error.message}
      {positioned ? (
        <>
          <div class="where">
            Line {qe.line}, column {qe.pos! + 1}
          </div>
          <pre class="error-line">
            <span class="gutter">{qe.line}</span>
            {lineText.slice(0, start)}
            <mark>{lineText.slice(start, start + length) || ' '}</mark>
            {lineText.slice(start + length)}
          </pre>
        </>
      ) : null}
    </div>
  );
}

const NUMERIC = new Set(['int', 'long', 'real', 'decimal']);

function Results({ result, ms }: { result: QueryResult; ms: number }) {
  const shown = result.rows.slice(0, 1000);
  return (
    <div class="results">
      <p class="status" role="status">
        {result.rows.length} row{result.rows.length === 1 ? '' : 's'} · {result.columns.length} column{result.columns.length === 1 ? '' : 's'} · {Math.round(ms)} ms
        {result.rows.length > shown.length ? ` (first ${shown.length} shown)` : ''}
      </p>
      {result.render ? <RenderedChart result={result} /> : null}
      <div class="grid-wrap">
        <table class="grid">
          <thead>
            <tr>
              {result.columns.map((c) => (
                <th key={c.name} scope="col" title={c.type}>
                  {c.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.map((row, i) => (
              <tr key={i}>
                {row.map((cell, j) => (
                  <td key={j} class={NUMERIC.has(result.columns[j]!.type) ? 'num' : undefined}>
                    {cell === null ? '' : typeof cell === 'object' ? JSON.stringify(cell) : String(cell)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

/** `| render timechart|barchart|columnchart|piechart` as Kusto draws it: x = first column of the right kind, a string column splits series. */
function RenderedChart({ result }: { result: QueryResult }) {
  const visualization = result.render!.visualization;
  const chart = useMemo(() => {
    const cols = result.columns;
    const numeric = cols.map((c, i) => ({ c, i })).filter(({ c }) => NUMERIC.has(c.type));
    const stringCol = cols.findIndex((c) => c.type === 'string');
    if (visualization === 'timechart' || visualization === 'linechart' || visualization === 'areachart') {
      const timeCol = cols.findIndex((c) => c.type === 'datetime');
      if (timeCol < 0) return { problem: 'timechart needs a datetime column.' };
      const x = [...new Set(result.rows.map((r) => toMs(r[timeCol])))].sort((a, b) => a - b);
      const index = new Map(x.map((t, i) => [t, i]));
      const series = new Map<string, Series>();
      for (const row of result.rows) {
        for (const { c, i } of numeric) {
          const label = stringCol >= 0 ? (numeric.length > 1 ? `${row[stringCol]}:${c.name}` : String(row[stringCol])) : c.name;
          let s = series.get(label);
          if (!s) series.set(label, (s = { label, values: x.map(() => null) }));
          s.values[index.get(toMs(row[timeCol]))!] = Number(row[i]);
        }
      }
      return { time: { x, series: [...series.values()] } };
    }
    const catCol = stringCol >= 0 ? stringCol : cols.findIndex((c) => !NUMERIC.has(c.type));
    const categories = result.rows.map((r) => String(catCol >= 0 ? r[catCol] : ''));
    const series = numeric.filter(({ i }) => i !== catCol).map(({ c, i }) => ({ label: c.name, values: result.rows.map((r) => Number(r[i])) }));
    return { category: { categories, series } };
  }, [result]);
  const label = `${visualization} of the query result`;
  if ('problem' in chart) return <p class="error">{chart.problem}</p>;
  return (
    <figure class="rendered" data-visualization={visualization}>
      {chart.time ? <TimeChart x={chart.time.x} series={chart.time.series} kind={visualization === 'areachart' ? 'area' : 'line'} label={label} /> : null}
      {chart.category && visualization === 'piechart' ? <PieChart {...chart.category} label={label} /> : null}
      {chart.category && visualization === 'barchart' ? <BarChart {...chart.category} label={label} /> : null}
      {chart.category && visualization !== 'piechart' && visualization !== 'barchart' ? <BarChart {...chart.category} label={label} vertical /> : null}
      <figcaption>render {visualization}</figcaption>
    </figure>
  );
}
