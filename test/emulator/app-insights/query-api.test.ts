import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVirtualClock } from '../../../policy-engine/clock.js';
import { createAppInsightsInfoRouter, createQueryApiRouter } from '../../../emulator/app-insights/query-api.js';
import { createSqliteTelemetryStore, type SqliteTelemetryStore } from '../../../emulator/app-insights/sqlite-store.js';
import { defaultAppInsightsIdentity } from '../../../emulator/app-insights/store.js';
import { LAB_NOW, LAB_QUERY, labCalls, seedLab } from './support.js';

const identity = defaultAppInsightsIdentity();
const { appId, workspaceId } = identity;
const COMPONENT = `/subscriptions/s1/resourceGroups/rg/providers/microsoft.insights/components/${identity.name}`;
const WORKSPACE = '/subscriptions/s1/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/law-emulator';

describe('query API router (supertest)', () => {
  let store: SqliteTelemetryStore;
  let app: express.Express;
  const clock = createVirtualClock({ startMs: LAB_NOW, frozen: true });
  const downstream: Array<{ path: string; body: string }> = [];

  beforeAll(() => {
    store = createSqliteTelemetryStore({ inMemory: true, identity });
    seedLab(store, labCalls(40));
    // One old row, outside PT1H.
    store.writeMetric({ timestamp: LAB_NOW - 3 * 3_600_000, name: 'Total Tokens', value: 1, namespace: 'openai', dimensions: {} });
    app = express();
    app.use('/_emulator', createAppInsightsInfoRouter(identity, () => 'http://127.0.0.1:8080'));
    app.use(createQueryApiRouter({ store, identity, clock }));
    // Whatever follows (the gateway) still gets the raw, unread body.
    app.use(express.raw({ type: () => true }), (req, res) => {
      downstream.push({ path: req.path, body: Buffer.isBuffer(req.body) ? req.body.toString() : '' });
      res.status(404).json({ statusCode: 404, message: 'Resource not found' });
    });
  });
  afterAll(() => store.close());

  const countQuery = { query: "customMetrics | where name == 'Total Tokens' | count" };

  it('POST /v1/apps/{appId}/query runs the lab query with the expected columns', async () => {
    const res = await request(app).post(`/v1/apps/${appId}/query`).set('authorization', 'Bearer anything').send({ query: LAB_QUERY, timespan: 'PT1H' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body.tables).toHaveLength(1);
    expect(res.body.tables[0].name).toBe('PrimaryResult');
    expect(res.body.tables[0].columns.map((c: { name: string; type: string }) => `${c.name}:${c.type}`)).toEqual([
      'timestamp:datetime', 'value:real', 'clientIP:string', 'apiId:string', 'apimSubscription:string', 'UserId:string',
    ]);
    const rows = res.body.tables[0].rows as unknown[][];
    expect(rows).toHaveLength(40);
    expect(rows.map((r) => r[0])).toEqual([...rows.map((r) => r[0] as string)].sort());
  });

  it('GET with a query string equals POST; api_key / x-api-key / no auth are all accepted', async () => {
    const get = await request(app).get(`/v1/apps/${appId}/query`).query({ ...countQuery, timespan: 'PT1H', api_key: 'k' });
    const post = await request(app).post(`/v1/apps/${appId}/query`).set('x-api-key', 'whatever').send({ ...countQuery, timespan: 'PT1H' });
    expect(get.status).toBe(200);
    expect(get.body).toEqual(post.body);
    expect(get.body.tables[0].rows).toEqual([[40]]);
    const all = await request(app).post(`/v1/apps/${appId}/query`).send(countQuery);
    expect(all.body.tables[0].rows).toEqual([[41]]);
  });

  it('accepts the app name in place of the app id, case-insensitive paths, a trailing slash, // and %24batch', async () => {
    for (const path of [`/v1/apps/${identity.name}/query`, `/V1/Apps/${appId.toUpperCase()}/QUERY/`, `/v1//apps/${appId}//query`]) {
      const res = await request(app).post(path).send(countQuery);
      expect(res.status, path).toBe(200);
      expect(res.body.tables[0].rows, path).toEqual([[41]]);
    }
    const batch = await request(app).post('/v1/%24batch').send({ requests: [{ id: 'a', body: { query: 'AppMetrics | count' }, workspace: workspaceId }] });
    expect(batch.status).toBe(200);
    expect(batch.body.responses[0].body.tables[0].rows).toEqual([[121]]);
  });

  it('sets x-ms-request-id and echoes x-ms-client-request-id', async () => {
    const res = await request(app).post(`/v1/apps/${appId}/query`).set('x-ms-client-request-id', 'client-1').send(countQuery);
    expect(res.headers['x-ms-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(res.headers['x-ms-client-request-id']).toBe('client-1');
  });

  it('workspace route: App* names (and APIM tables), not classic names', async () => {
    const ok = await request(app).post(`/v1/workspaces/${workspaceId}/query`).send({ query: "AppMetrics | where Name == 'Total Tokens' | count", timespan: 'PT1H' });
    expect(ok.body.tables[0].rows).toEqual([[40]]);
    const classic = await request(app).post(`/v1/workspaces/${workspaceId}/query`).send(countQuery);
    expect(classic.status).toBe(400);
    expect(classic.body.error.innererror.code).toBe('SemanticError');
    const apim = await request(app).get(`/v1/workspaces/${workspaceId}/query`).query({ query: 'ApiManagementGatewayLlmLog | count' });
    expect(apim.body.tables[0].rows).toEqual([[0]]);
  });

  it('resource-scoped: component → classic names, workspace → App* names, // tolerated, unknown type → 404', async () => {
    const component = await request(app).post(`/v1/${COMPONENT}/query`).send(countQuery);
    expect(component.status).toBe(200);
    expect(component.body.tables[0].rows).toEqual([[41]]);
    const ws = await request(app).get(`/v1${WORKSPACE}/query/`).query({ query: 'AppMetrics | count' });
    expect(ws.body.tables[0].rows).toEqual([[121]]);
    const unknown = await request(app).post('/v1/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/x/query').send(countQuery);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'PathNotFoundError', innererror: { code: 'ResourceNotFoundError' } });
  });

  it('404 PathNotFoundError for an unknown app id or workspace id, or an unknown cross-resource id', async () => {
    const unknownApp = await request(app).post('/v1/apps/00000000-0000-0000-0000-000000000000/query').send(countQuery);
    expect(unknownApp.status).toBe(404);
    expect(unknownApp.body.error).toMatchObject({ code: 'PathNotFoundError', message: 'The requested path does not exist', innererror: { code: 'ApplicationNotFoundError' } });
    expect(unknownApp.body.error.correlationId).toBe(unknownApp.headers['x-ms-request-id']);
    const unknownWs = await request(app).get('/v1/workspaces/nope/query').query({ query: 'AppMetrics' });
    expect(unknownWs.status).toBe(404);
    expect(unknownWs.body.error).toMatchObject({ code: 'PathNotFoundError', innererror: { code: 'WorkspaceNotFoundError' } });
    const cross = await request(app).post(`/v1/apps/${appId}/query`).send({ ...countQuery, applications: [appId, 'other-app'] });
    expect(cross.status).toBe(404);
    expect(cross.body.error.innererror.message).toContain('other-app');
    const self = await request(app).post(`/v1/workspaces/${workspaceId}/query`).send({ query: 'AppMetrics | count', workspaces: [workspaceId.toUpperCase()] });
    expect(self.body.tables[0].rows).toEqual([[121]]);
  });

  it('400 SyntaxError with code, message, line, pos and token', async () => {
    const res = await request(app).post(`/v1/apps/${appId}/query`).send({ query: 'customMetrics\n| where name == ' });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      message: 'The request had some invalid properties',
      code: 'BadArgumentError',
      innererror: { code: 'SyntaxError', message: 'A recognition error occurred in the query.', innererror: { code: 'SYN0002', line: 2 } },
    });
    const inner = res.body.error.innererror.innererror;
    expect(typeof inner.pos).toBe('number');
    expect(inner.message).toMatch(/^Query could not be parsed at '.*' on line \[2,\d+\]$/);
    expect(inner).toHaveProperty('token');
  });

  it('400 SemanticError for an unknown column, an unknown table and an unsupported operator', async () => {
    const column = await request(app).post(`/v1/apps/${appId}/query`).send({ query: 'customMetrics | where nam == 1' });
    expect(column.status).toBe(400);
    expect(column.body.error.innererror).toMatchObject({ code: 'SemanticError', message: 'A semantic error occurred.', innererror: { code: 'SEM0100', line: 1 } });
    expect(column.body.error.innererror.innererror.message).toContain("'nam'");
    const table = await request(app).post(`/v1/apps/${appId}/query`).send({ query: 'NoSuchTable | count' });
    expect(table.body.error.innererror.innererror.message).toContain('NoSuchTable');
    const op = await request(app).post(`/v1/apps/${appId}/query`).send({ query: 'customMetrics | evaluate pivot(name)' });
    expect(op.status).toBe(400);
    expect(op.body.error.innererror.innererror.message).toContain('evaluate');
  });

  it('400 for malformed JSON (with the parser position), a non-object body, a missing query and a bad timespan', async () => {
    const malformed = await request(app).post(`/v1/apps/${appId}/query`).set('content-type', 'application/json').send('{"query": "customMetrics",');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('BadArgumentError');
    expect(malformed.body.error.message).toMatch(/^The request body is not valid JSON: .*position \d+/);
    const array = await request(app).post(`/v1/apps/${appId}/query`).set('content-type', 'application/json').send('[1]');
    expect(array.status).toBe(400);
    expect(array.body.error.innererror.message).toBe('The request body must be a JSON object.');
    for (const body of [{}, { query: '' }, { query: 42 }]) {
      const missing = await request(app).post(`/v1/apps/${appId}/query`).send(body);
      expect(missing.status).toBe(400);
      expect(missing.body.error.innererror).toMatchObject({ code: 'QueryValidationError' });
    }
    const empty = await request(app).post(`/v1/apps/${appId}/query`);
    expect(empty.status).toBe(400);
    const timespan = await request(app).post(`/v1/apps/${appId}/query`).send({ ...countQuery, timespan: 'yesterday' });
    expect(timespan.status).toBe(400);
    expect(timespan.body.error).toMatchObject({ code: 'BadArgumentError', innererror: { code: 'InvalidTimespan' } });
    expect(timespan.body.error.message).toContain("Invalid timespan 'yesterday'");
    const numeric = await request(app).post(`/v1/apps/${appId}/query`).send({ ...countQuery, timespan: 3600 });
    expect(numeric.status).toBe(400);
  });

  it('accepts a JSON body sent without a JSON content type (curl -d)', async () => {
    const res = await request(app).post(`/v1/apps/${appId}/query`).set('content-type', 'application/x-www-form-urlencoded').send(JSON.stringify(countQuery));
    expect(res.status).toBe(200);
    expect(res.body.tables[0].rows).toEqual([[41]]);
  });

  it('timespan formats real clients send', async () => {
    const count = async (timespan: string) => (await request(app).post(`/v1/apps/${appId}/query`).send({ ...countQuery, timespan })).body.tables[0].rows[0][0];
    const iso = (ms: number) => new Date(ms).toISOString();
    expect(await count('PT3600.0S')).toBe(40);
    expect(await count('P1D')).toBe(41);
    expect(await count('P1DT12H')).toBe(41);
    expect(await count(`${iso(LAB_NOW - 4 * 3_600_000)}/${iso(LAB_NOW - 2 * 3_600_000)}`)).toBe(1);
    expect(await count(`${iso(LAB_NOW - 3_600_000)}/PT1H`)).toBe(40);
    expect(await count(`PT2H/${iso(LAB_NOW - 2 * 3_600_000)}`)).toBe(1);
    // az CLI --offset 1h: naive UTC timestamps with microseconds
    const naive = (ms: number) => iso(ms).replace('Z', '123');
    expect(await count(`${naive(LAB_NOW - 3_600_000)}/${naive(LAB_NOW)}`)).toBe(40);
  });

  it('Prefer: include-statistics and include-render', async () => {
    const q = { query: 'customMetrics | summarize sum(value) by bin(timestamp, 1h) | render timechart' };
    const plain = await request(app).post(`/v1/apps/${appId}/query`).send(q);
    expect(plain.body).not.toHaveProperty('render');
    expect(plain.body).not.toHaveProperty('statistics');
    const both = await request(app).post(`/v1/apps/${appId}/query`).set('prefer', 'wait=30, include-statistics=true, include-render=true').send(q);
    expect(both.body.render).toMatchObject({ visualization: 'timechart' });
    expect(both.body.statistics.query.executionTime).toBeGreaterThanOrEqual(0);
    expect(both.body.statistics.query.datasetStatistics[0].tableRowCount).toBe(both.body.tables[0].rows.length);
  });

  it('POST /v1/$batch answers each request, failures per item', async () => {
    const res = await request(app)
      .post('/v1/$batch')
      .send({
        requests: [
          { id: 'query-0', body: { query: "AppMetrics | where Name == 'Total Tokens' | count", timespan: 'PT1H' }, path: '/query', method: 'POST', workspace: workspaceId },
          { id: 'query-1', body: { query: 'AppMetrics | where (' }, path: '/query', method: 'POST', workspace: workspaceId },
          { id: 'query-2', body: { query: 'AppMetrics | count' }, path: '/query', method: 'POST', workspace: 'unknown' },
          { id: 'query-3', body: { query: 'AppMetrics | take 1 | render table' }, headers: { Prefer: 'include-render=true' }, workspace: workspaceId },
        ],
      });
    expect(res.status).toBe(200);
    const byId = Object.fromEntries(res.body.responses.map((r: { id: string }) => [r.id, r]));
    expect(byId['query-0']).toMatchObject({ status: 200, body: { tables: [{ rows: [[40]] }] } });
    expect(byId['query-1']).toMatchObject({ status: 400, body: { error: { code: 'BadArgumentError', innererror: { code: 'SyntaxError' } } } });
    expect(byId['query-2']).toMatchObject({ status: 404, body: { error: { code: 'PathNotFoundError' } } });
    expect(byId['query-3'].body.render).toMatchObject({ visualization: 'table' });
    const bad = await request(app).post('/v1/$batch').send({ nope: true });
    expect(bad.status).toBe(400);
  });

  it('405 for other methods on query paths; other paths and their bodies pass through untouched', async () => {
    const put = await request(app).put(`/v1/apps/${appId}/query`).send(countQuery);
    expect(put.status).toBe(405);
    expect(put.headers.allow).toBe('GET, POST');
    expect(put.body.error.code).toBe('MethodNotAllowed');
    const getBatch = await request(app).get('/v1/$batch');
    expect(getBatch.status).toBe(405);
    const body = '{"messages":[{"role":"user","content":"hi"}]}';
    const other = await request(app).post('/inference/openai/deployments/gpt/chat/completions').set('content-type', 'application/json').send(body);
    expect(other.status).toBe(404);
    expect(downstream.at(-1)).toEqual({ path: '/inference/openai/deployments/gpt/chat/completions', body });
  });

  it('a body larger than the limit is a 413 with the error envelope; the server keeps answering', async () => {
    const small = express();
    small.use(createQueryApiRouter({ store, identity, clock, bodyLimit: 100 }));
    const res = await request(small).post(`/v1/apps/${appId}/query`).send({ query: `customMetrics | where name == '${'x'.repeat(200)}'` });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('RequestTooLarge');
    expect((await request(small).post(`/v1/apps/${appId}/query`).send(countQuery)).status).toBe(200);
  });

  it('now() comes from the injected clock, once per query', async () => {
    const q = { query: "customMetrics | where name == 'Total Tokens' and timestamp > ago(30m) | count" };
    const before = (await request(app).post(`/v1/apps/${appId}/query`).send(q)).body.tables[0].rows[0][0];
    clock.advance('5m');
    const after = (await request(app).post(`/v1/apps/${appId}/query`).send(q)).body.tables[0].rows[0][0];
    clock.set(LAB_NOW);
    expect([before, after]).toEqual([20, 15]);
  });

  it('GET /_emulator/appinsights gives the identity and connection string', async () => {
    const res = await request(app).get('/_emulator/appinsights');
    expect(res.body).toEqual({
      appId,
      name: 'insights-emulator',
      workspaceId,
      instrumentationKey: identity.instrumentationKey,
      resourceId: identity.resourceId,
      connectionString: `InstrumentationKey=${identity.instrumentationKey};IngestionEndpoint=http://127.0.0.1:8080/;ApplicationId=${appId}`,
    });
    const bare = express().use(createAppInsightsInfoRouter({ name: 'n', appId: 'a', workspaceId: 'w', instrumentationKey: 'k' }));
    expect((await request(bare).get('/appinsights')).body).toEqual({ appId: 'a', name: 'n', workspaceId: 'w', instrumentationKey: 'k', connectionString: 'InstrumentationKey=k;ApplicationId=a' });
  });
});
