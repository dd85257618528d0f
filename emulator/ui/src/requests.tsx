import { useState } from 'preact/hooks';
import { getJson, records, runQuery } from './api.js';
import { SelectField } from './field.js';
import { detailQuery, REQUESTS_QUERY, tracesQuery } from './queries.js';
import { TIME_RANGES, useAsync } from './use-async.js';

export function RequestsLog() {
  const [range, setRange] = useState<string>('PT1H');
  const [live, setLive] = useState(false);
  const [selected, setSelected] = useState<string | undefined>();
  const list = useAsync(async () => records(await runQuery(REQUESTS_QUERY, range)), [range], live ? 3_000 : undefined);
  return (
    <section class="view requests" aria-label="Requests log">
      <div class="toolbar">
        <SelectField label="Time range" value={range} onChange={(v) => setRange(v)}>
          {TIME_RANGES.map((t) => (
            <option key={t.value} value={t.value}>
              {t.label}
            </option>
          ))}
        </SelectField>
        <label class="check">
          <input type="checkbox" checked={live} onChange={(e) => setLive(e.currentTarget.checked)} /> Live (3 s)
        </label>
        <button type="button" onClick={list.reload}>
          Refresh
        </button>
      </div>
      {list.error ? <p class="error" role="alert">{list.error.message}</p> : null}
      <div class="split-pane">
        <div class="grid-wrap">
          <table class="grid requests-grid">
            <caption class="sr-only">Recent gateway requests, newest first; press Enter on a row for its trace</caption>
            <thead>
              <tr>
                <th scope="col">Time (UTC)</th>
                <th scope="col">Status</th>
                <th scope="col">Subscription</th>
                <th scope="col">Operation</th>
                <th scope="col" title="total (prompt + completion)">Tokens</th>
                <th scope="col">Duration</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {(list.value ?? []).map((r) => {
                const id = String(r.CorrelationId);
                const status = Number(r.ResponseCode);
                return (
                  <tr
                    key={id}
                    tabIndex={0}
                    aria-selected={selected === id}
                    class={status >= 400 ? 'failed' : undefined}
                    data-status={status}
                    onClick={() => setSelected(id)}
                    onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), setSelected(id))}
                  >
                    <td title={String(r.TimeGenerated)}>{String(r.TimeGenerated).replace(/^.*T/, '').replace(/Z$/, '')}</td>
                    <td class={`status s${Math.floor(status / 100)}xx`}>{status}</td>
                    <td>{String(r.ApimSubscriptionId)}</td>
                    <td title={`${String(r.ApiId)} / ${String(r.OperationId)}`}>{String(r.OperationId) || String(r.ApiId)}</td>
                    <td class="num">{r.TotalTokens === null || r.TotalTokens === undefined ? '' : `${r.TotalTokens} (${r.PromptTokens} + ${r.CompletionTokens})`}</td>
                    <td class="num">{String(r.TotalTime)} ms</td>
                    <td>{String(r.LastErrorReason ?? '')}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {list.value && list.value.length === 0 ? <p class="empty">No gateway request in this time range.</p> : null}
        </div>
        {selected ? <RequestDetail id={selected} onClose={() => setSelected(undefined)} /> : null}
      </div>
    </section>
  );
}

interface TraceRecord {
  source?: string;
  severity?: string;
  message?: unknown;
  metadata?: unknown;
}

interface StepTrace {
  policy: string;
  path: string;
  scope: string;
  section: string;
  depth: number;
  durationMs: number;
  outcome: 'ok' | 'error' | 'return-response';
}

function RequestDetail({ id, onClose }: { id: string; onClose: () => void }) {
  const detail = useAsync(async () => {
    const [row, traces, recent] = await Promise.all([
      runQuery(detailQuery(id)),
      runQuery(tracesQuery(id)),
      // The executed steps are kept in memory for the last requests only (control plane).
      getJson<{ steps: StepTrace[] }>(`/_emulator/requests/${encodeURIComponent(id)}`).catch(() => undefined),
    ]);
    return { row: records(row)[0], traces: records(traces), steps: recent?.steps };
  }, [id]);
  const row = detail.value?.row;
  const parse = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v || 'null') : v);
  const traceRecords = (row ? (parse(row.TraceRecords) as TraceRecord[] | null) : null) ?? [];
  return (
    <aside class="detail" aria-label={`Request ${id}`}>
      <div class="detail-head">
        <h2>Request {id}</h2>
        <button type="button" onClick={onClose} aria-label="Close the request details">
          ✕
        </button>
      </div>
      {detail.error ? <p class="error">{detail.error.message}</p> : null}
      {row ? (
        <>
          <dl class="facts">
            <dt>Request</dt>
            <dd>
              {String(row.Method)} {String(row.Url)}
            </dd>
            <dt>Status</dt>
            <dd>
              {String(row.ResponseCode)} (backend {row.BackendResponseCode === null ? 'not called' : String(row.BackendResponseCode)}
              {row.BackendId ? `, ${String(row.BackendId)}` : ''})
            </dd>
            <dt>API / operation</dt>
            <dd>
              {String(row.ApiId)} / {String(row.OperationId)} {row.ProductId ? `(product ${String(row.ProductId)})` : ''}
            </dd>
            <dt>Subscription</dt>
            <dd>{String(row.ApimSubscriptionId)}</dd>
            <dt>Client IP</dt>
            <dd>{String(row.CallerIpAddress)}</dd>
            <dt>Duration</dt>
            <dd>{String(row.TotalTime)} ms</dd>
          </dl>
          <h3>Policy trace</h3>
          {detail.value?.steps ? (
            <ol class="steps" aria-label="Policy steps that ran">
              {detail.value.steps.map((st, i) => (
                <li key={i} class={`step ${st.outcome}`} style={{ paddingLeft: `${st.depth * 16}px` }} data-policy={st.policy} data-outcome={st.outcome}>
                  <span class="muted">
                    {st.section} · {st.scope}
                  </span>{' '}
                  <code>{st.policy}</code> {st.outcome === 'ok' ? '' : <strong>{st.outcome}</strong>} <span class="muted">{st.durationMs} ms</span>
                </li>
              ))}
            </ol>
          ) : (
            <p class="muted">The executed steps are only kept for the emulator's most recent requests.</p>
          )}
          <h3>Trace records and errors</h3>
          <ol class="trace">
            {traceRecords.map((t, i) => (
              <li key={i} class={`sev-${t.severity ?? 'information'}`}>
                <span class="muted">{t.source ?? 'trace'}</span> {typeof t.message === 'string' ? t.message : JSON.stringify(t.message)}
                {t.metadata && Object.keys(t.metadata as object).length ? <code> {JSON.stringify(t.metadata)}</code> : null}
              </li>
            ))}
            {(detail.value?.traces ?? []).length > traceRecords.length
              ? detail.value!.traces.map((t, i) => (
                  <li key={`t${i}`}>
                    {String(t.message)} <code>{String(t.customDimensions)}</code>
                  </li>
                ))
              : null}
            {row.LastErrorReason ? (
              <li class="sev-error" data-last-error={String(row.LastErrorReason)}>
                <strong>
                  {String(row.LastErrorSection)} · {String(row.LastErrorSource)}
                </strong>
                {row.LastErrorScope ? ` (scope ${String(row.LastErrorScope)})` : ''}: {String(row.LastErrorReason)} — {String(row.LastErrorMessage)}
              </li>
            ) : null}
            {traceRecords.length === 0 && !row.LastErrorReason ? <li class="muted">No trace records and no error: every policy in the pipeline ran through.</li> : null}
          </ol>
        </>
      ) : detail.loading ? (
        <p>Loading…</p>
      ) : (
        <p class="empty">No log row for this request.</p>
      )}
    </aside>
  );
}
