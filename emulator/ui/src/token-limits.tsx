import { useMemo, useState } from 'preact/hooks';
import { getJson, records, runQuery } from './api.js';
import { fmt, Legend, TimeChart } from './charts.js';
import { SelectField } from './field.js';
import { FIRST_REFUSAL_QUERY, PER_REQUEST_QUERY, timelineQuery } from './queries.js';
import { TIME_RANGES, toMs, useAsync } from './use-async.js';

interface TokenLimitsResponse {
  now: number;
  definitions: Array<{ scope: string; policy: string; counterKey: string; tokensPerMinute?: number; tokenQuota?: number; tokenQuotaPeriod?: string; line: number }>;
  counters: Array<{ key: string; kind: 'tokens-per-minute' | 'token-quota'; used: number; limit?: number; period?: string; resetsAt?: number }>;
}

const BINS = ['1s', '10s', '1m', '5m'] as const;
const BIN_MS: Record<(typeof BINS)[number], number> = { '1s': 1_000, '10s': 10_000, '1m': 60_000, '5m': 300_000 };
const ADMITTED = '#19a979';
const REFUSED = '#d9534f';

export function TokenLimits() {
  const [live, setLive] = useState(true);
  const [range, setRange] = useState<string>('PT1H');
  const [bin, setBin] = useState<(typeof BINS)[number]>('1s');
  const limits = useAsync(() => getJson<TokenLimitsResponse>('/_emulator/token-limits'), [], live ? 2_000 : undefined);
  const timeline = useAsync(
    async () => {
      const [series, first, total, perRequest] = await Promise.all([
        runQuery(timelineQuery(bin), range),
        runQuery(FIRST_REFUSAL_QUERY, range),
        runQuery('requests\n| summarize requests = count()', range),
        runQuery(PER_REQUEST_QUERY, range),
      ]);
      return { rows: records(series), first: records(first)[0], total: Number(records(total)[0]?.requests ?? 0), perRequest: records(perRequest) };
    },
    [range, bin],
    live ? 2_000 : undefined,
  );
  const chart = useMemo(() => {
    const rows = timeline.value?.rows ?? [];
    return {
      x: rows.map((r) => toMs(r.timestamp)),
      series: [
        { label: 'admitted', values: rows.map((r) => Number(r.admitted)) },
        { label: 'refused (429/403)', values: rows.map((r) => Number(r.refused)) },
      ],
    };
  }, [timeline.value]);
  const refused = Number(timeline.value?.first?.refused ?? 0);
  const admitted = chart.series[0]!.values.reduce<number>((a, b) => a + (b ?? 0), 0);

  return (
    <section class="view limits" aria-label="Token limits">
      <div class="toolbar">
        <label class="check">
          <input type="checkbox" checked={live} onChange={(e) => setLive(e.currentTarget.checked)} /> Live (2 s)
        </label>
        <SelectField label="Time range" value={range} onChange={(v) => setRange(v)}>
          {TIME_RANGES.map((t) => (
            <option key={t.value} value={t.value}>
              {t.label}
            </option>
          ))}
        </SelectField>
        <SelectField label="Bin" value={bin} onChange={(v) => setBin(v as (typeof BINS)[number])}>
          {BINS.map((b) => (
            <option key={b}>{b}</option>
          ))}
        </SelectField>
      </div>

      <h2>Counters now</h2>
      {limits.error ? <p class="error" role="alert">{limits.error.message}</p> : null}
      {limits.value && limits.value.counters.length === 0 ? <p class="empty">No token-limit counter has been charged yet.</p> : null}
      <div class="counters">
        {(limits.value?.counters ?? []).map((c) => {
          const pct = c.limit ? (c.used / c.limit) * 100 : 0;
          const label = c.kind === 'tokens-per-minute' ? 'tokens in the last minute' : `tokens this ${c.period ?? 'period'}`;
          return (
            <div class="counter" key={`${c.kind}:${c.key}`} data-counter-key={c.key} data-kind={c.kind} data-used={c.used} data-limit={c.limit}>
              <div class="counter-head">
                <code>{c.key}</code> <span class="muted">{c.kind}</span>
              </div>
              <meter min={0} max={c.limit ?? Math.max(1, c.used)} low={(c.limit ?? 1) * 0.75} high={(c.limit ?? 1) * 0.9} optimum={0} value={c.used} aria-label={`${c.key} ${label}`} />
              <div class="counter-text">
                {fmt(c.used)} {c.limit !== undefined ? `of ${fmt(c.limit)} (${Math.round(pct)}%)` : '(limit is an expression)'} {label}
                {c.resetsAt ? ` · resets ${new Date(c.resetsAt).toISOString()}` : ''}
              </div>
            </div>
          );
        })}
      </div>

      <h2>Admitted and refused requests</h2>
      <p class="summary" data-refused={refused} data-admitted={admitted}>
        {timeline.value ? (
          refused > 0 ? (
            <>
              <strong class="refused">{refused}</strong> of {timeline.value.total} requests refused · first refusal at{' '}
              <time>{String(timeline.value.first?.first ?? '')}</time>
            </>
          ) : (
            <>No request refused ({timeline.value.total} requests in the time range).</>
          )
        ) : (
          '…'
        )}
      </p>
      {chart.x.length > 0 ? <TimeChart x={chart.x} series={chart.series} kind="bar" label="Admitted and refused requests over time" colors={[ADMITTED, REFUSED]} height={240} binMs={BIN_MS[bin]} /> : null}
      <Legend
        items={[
          { label: 'admitted', value: admitted, color: ADMITTED },
          { label: 'refused (429/403)', value: refused, color: REFUSED },
        ]}
      />

      <h2>Tokens per request</h2>
      <PerRequestChart rows={timeline.value?.perRequest ?? []} />

      <h2>Token-limit policies in force</h2>
      <table class="grid compact">
        <thead>
          <tr>
            <th scope="col">Scope</th>
            <th scope="col">Policy</th>
            <th scope="col">counter-key</th>
            <th scope="col">tokens-per-minute</th>
            <th scope="col">token-quota</th>
            <th scope="col">period</th>
          </tr>
        </thead>
        <tbody>
          {(limits.value?.definitions ?? []).map((d, i) => (
            <tr key={i}>
              <td>
                {d.scope} <span class="muted">line {d.line}</span>
              </td>
              <td>{d.policy}</td>
              <td>
                <code>{d.counterKey}</code>
              </td>
              <td class="num">{d.tokensPerMinute ?? ''}</td>
              <td class="num">{d.tokenQuota ?? ''}</td>
              <td>{d.tokenQuotaPeriod ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <details class="query-shown">
        <summary>Queries</summary>
        <pre>{`${timelineQuery(bin)}\n\n${FIRST_REFUSAL_QUERY}\n\n${PER_REQUEST_QUERY}`}</pre>
      </details>
    </section>
  );
}

/** One bar per request in arrival order: admitted ones as tall as their tokens, refused ones as a red mark. */
function PerRequestChart({ rows }: { rows: Array<Record<string, unknown>> }) {
  if (rows.length === 0) return <p class="empty">No request in this time range.</p>;
  const tokens = rows.map((r) => Number(r.TotalTokens ?? 0) || 0);
  const max = Math.max(1, ...tokens);
  const width = 100 / rows.length;
  const refusedAt = rows.findIndex((r) => [429, 403].includes(Number(r.resultCode)));
  return (
    <figure class="per-request">
      <svg viewBox="0 0 100 50" preserveAspectRatio="none" role="img" aria-label={`Tokens per request; ${refusedAt < 0 ? 'none refused' : `refusals start at request ${refusedAt + 1}`}`}>
        {rows.map((r, i) => {
          const status = Number(r.resultCode);
          const refused = status === 429 || status === 403;
          const h = refused ? 4 : (tokens[i]! / max) * 46;
          return (
            <rect key={i} class={refused ? 'refused' : 'admitted'} data-status={status} x={i * width + width * 0.1} y={50 - h} width={width * 0.8} height={h} fill={refused ? REFUSED : ADMITTED}>
              <title>{`#${i + 1} ${String(r.timestamp)} · ${status}${refused ? '' : ` · ${tokens[i]} tokens`}`}</title>
            </rect>
          );
        })}
      </svg>
      <figcaption>
        {rows.length} requests in order{refusedAt >= 0 ? `; the first refusal is request ${refusedAt + 1}` : ''} (green: tokens of an admitted call; red: refused)
      </figcaption>
    </figure>
  );
}
