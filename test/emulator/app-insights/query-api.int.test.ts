import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { labPost } from '../../support/lab.js';

describe('App Insights / Log Analytics query API', () => {
  let gw: RunningEmulator;
  let appId: string;
  let workspaceId: string;
  beforeAll(async () => {
    gw = await startEmulator({ preset: 'token-metrics-emitting' });
    ({ appId, workspaceId } = await (await fetch(`${gw.url}/_emulator/appinsights`)).json());
    for (const s of ['subscription1', 'subscription2']) {
      expect((await labPost(gw.url, gw.keyFor(s))).status).toBe(200);
      gw.clock.advance('30m');
    }
  });
  afterAll(() => gw.close());

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  it('GET /_emulator/appinsights gives the identity and a connection string', async () => {
    const info = await (await fetch(`${gw.url}/_emulator/appinsights`)).json();
    expect(info).toMatchObject({ name: 'insights-emulator', appId: 'a1a1a1a1-0000-4000-8000-000000000001', workspaceId: 'b2b2b2b2-0000-4000-8000-000000000002' });
    expect(info.connectionString).toBe(`InstrumentationKey=c3c3c3c3-0000-4000-8000-000000000003;IngestionEndpoint=${gw.url}/;ApplicationId=${appId}`);
  });

  it('answers GET with a query string and POST with a JSON body alike, with x-ms-request-id', async () => {
    const q = "customMetrics | where name == 'Total Tokens' | project timestamp, value";
    const get = await fetch(`${gw.url}/v1/apps/${appId}/query?query=${encodeURIComponent(q)}`, { headers: { 'x-api-key': 'anything' } });
    const posted = await post(`/v1/apps/${appId}/query`, { query: q });
    expect(get.status).toBe(200);
    expect(get.headers.get('x-ms-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const a = await get.json();
    expect(a).toEqual(await posted.json());
    expect(a.tables[0].rows).toHaveLength(2);
  });

  it('applies timespan: durations relative to now and intervals', async () => {
    const q = { query: "customMetrics | where name == 'Total Tokens' | count" };
    const count = async (timespan?: string) => (await (await post(`/v1/apps/${appId}/query`, { ...q, ...(timespan ? { timespan } : {}) })).json()).tables[0].rows[0][0];
    expect(await count()).toBe(2);
    expect(await count('PT45M')).toBe(1);
    expect(await count('PT3600.0S')).toBe(2);
    expect(await count('2026-01-01T00:00:00Z/PT1M')).toBe(1);
    expect(await count('PT1M/2026-01-01T00:31:00Z')).toBe(1);
    expect(await count('2026-01-01T00:10:00.000000/2026-01-01T01:00:00.000000')).toBe(1);
    const bad = await post(`/v1/apps/${appId}/query`, { ...q, timespan: 'yesterday' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatchObject({ code: 'BadArgumentError' });
  });

  it('reports syntax and semantic errors in the documented shape', async () => {
    const syntax = await post(`/v1/apps/${appId}/query`, { query: 'customMetrics | where (' });
    expect(syntax.status).toBe(400);
    const s = (await syntax.json()).error;
    expect(s).toMatchObject({ code: 'BadArgumentError', message: 'The request had some invalid properties', innererror: { code: 'SyntaxError', innererror: { code: 'SYN0002', line: 1 } } });
    const semantic = await post(`/v1/apps/${appId}/query`, { query: 'customMetrics | where nam == 1' });
    expect(semantic.status).toBe(400);
    const e = (await semantic.json()).error.innererror;
    expect(e.code).toBe('SemanticError');
    expect(e.innererror.message).toContain("'nam'");
    const unsupported = await post(`/v1/apps/${appId}/query`, { query: 'customMetrics | evaluate pivot(name)' });
    expect(unsupported.status).toBe(400);
    expect(JSON.stringify(await unsupported.json())).toContain('evaluate');
    const malformed = await post(`/v1/apps/${appId}/query`, '{"query":');
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error.code).toBe('BadArgumentError');
    const missing = await post(`/v1/apps/${appId}/query`, {});
    expect(missing.status).toBe(400);
  });

  it('404 PathNotFoundError for an unknown app id or workspace (WorkspaceNotFoundError inside)', async () => {
    const app = await post('/v1/apps/00000000-0000-0000-0000-000000000000/query', { query: 'customMetrics' });
    expect(app.status).toBe(404);
    expect((await app.json()).error.code).toBe('PathNotFoundError');
    const ws = await post('/v1/workspaces/00000000-0000-0000-0000-000000000000/query', { query: 'AppMetrics' });
    expect(ws.status).toBe(404);
    expect((await ws.json()).error).toMatchObject({ code: 'PathNotFoundError', innererror: { code: 'WorkspaceNotFoundError' } });
  });

  it('serves workspace names on /workspaces and resource-scoped paths, tolerating //', async () => {
    const ws = await (await post(`/v1/workspaces/${workspaceId}/query`, { query: "AppMetrics | where Name == 'Total Tokens' | count" })).json();
    expect(ws.tables[0].rows).toEqual([[2]]);
    const resource = '/subscriptions/s/resourceGroups/rg/providers/microsoft.insights/components/insights-emulator';
    const r = await (await post(`/v1/${resource}/query`, { query: "customMetrics | where name == 'Total Tokens' | count" })).json();
    expect(r.tables[0].rows).toEqual([[2]]);
  });

  it('answers $batch and honours Prefer include-statistics / include-render', async () => {
    const batch = await (
      await post('/v1/$batch', { requests: [{ id: 'query-0', body: { query: 'AppMetrics | count' }, path: '/query', method: 'POST', workspace: workspaceId }] })
    ).json();
    expect(batch.responses[0]).toMatchObject({ id: 'query-0', status: 200 });
    expect(batch.responses[0].body.tables[0].rows).toEqual([[6]]);
    const rendered = await (
      await post(`/v1/apps/${appId}/query`, { query: "customMetrics | summarize sum(value) by bin(timestamp, 1h) | render timechart" }, { prefer: 'include-render=true,include-statistics=true' })
    ).json();
    expect(rendered.render).toBeDefined();
    expect(rendered.statistics.query).toBeDefined();
  });
});
