import { beforeEach, describe, expect, it } from 'vitest';
import { apiPolicy, httpBackendConfig } from '../../support/configs.js';
import { chatUrl } from '../../support/lab.js';
import { startContentBackend } from '../../support/content-backend.js';
import { useGatewayPerTest } from '../../support/scripted-gateway.js';
import type { EmulatorConfig } from '../../../emulator/config/schema.js';

/** An API schema (the API's openApi) that lists 200 and 4XX for chat completions. */
const OPEN_API = {
  openapi: '3.0.1',
  info: { title: 'inference', version: '1' },
  paths: {
    '/deployments/{deployment}/chat/completions': {
      post: { responses: { '200': { description: 'OK' }, '4XX': { description: 'client errors' } } },
    },
  },
};

/** validate-status-code over HTTP against the API's OpenAPI document: the reference's example and the three actions. */
describe('validate-status-code', () => {
  const env = useGatewayPerTest(startContentBackend);
  const backend = env.backend;
  beforeEach(() => {
    backend.reply = { status: 200, contentType: 'application/json', body: '{"ok":true}' };
  });
  const start = (outbound: string, withSchema = true) => {
    const config: EmulatorConfig = httpBackendConfig(backend.url, apiPolicy('', { outbound: `${outbound}<set-header name="x-errors" exists-action="override"><value>@(context.Variables.ContainsKey("v") ? context.Variables["v"].ToString(Newtonsoft.Json.Formatting.None) : "-")</value></set-header>` }));
    if (withSchema) config.apis[0]!.openApi = OPEN_API;
    return env.start({ config });
  };
  const post = (g: { url: string; keyFor(n: string): string }) => fetch(chatUrl(g.url), { method: 'POST', headers: { 'api-key': g.keyFor('subscription1'), 'content-type': 'application/json' }, body: '{}' });

  it("the reference's example (prevent): a status the schema lists passes, another becomes 502 with the public message (no backend detail)", async () => {
    const g = await start('<validate-status-code unspecified-status-code-action="prevent" errors-variable-name="v" />');
    const ok = await post(g);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true });
    backend.reply = { status: 404, contentType: 'application/json', body: '{"error":"nf"}' };
    expect((await post(g)).status).toBe(404); // 4XX is listed
    backend.reply = { status: 500, contentType: 'application/json', body: '{"stack":"at Backend.Secret()"}' };
    const refused = await post(g);
    expect(refused.status).toBe(502);
    const text = await refused.text();
    expect(text).not.toContain('Secret');
    expect(JSON.parse(text)).toEqual({ statusCode: 502, message: 'The request could not be processed due to an internal error. Contact the API owner.' });
  });

  it('detect logs {Name, Type, ValidationRule, Details, Action} to errors-variable-name and lets the response through; status-code overrides the unspecified action', async () => {
    backend.reply = { status: 503, contentType: 'application/json', body: '{}' };
    const g = await start('<validate-status-code unspecified-status-code-action="detect" errors-variable-name="v"><status-code code="502" action="prevent" /></validate-status-code>');
    const res = await post(g);
    expect(res.status).toBe(503);
    expect(JSON.parse(res.headers.get('x-errors')!)).toEqual([{ Name: '503', Type: 'StatusCode', ValidationRule: 'Unspecified', Details: 'Response status code 503 is not allowed.', Action: 'detect' }]);
    backend.reply = { status: 502, contentType: 'application/json', body: '{}' };
    expect(JSON.parse(await (await post(g)).text()).message).toBe('The request could not be processed due to an internal error. Contact the API owner.');
    const ignoring = await start('<validate-status-code unspecified-status-code-action="ignore" errors-variable-name="v" />');
    backend.reply = { status: 503, contentType: 'application/json', body: '{}' };
    const ignored = await post(ignoring);
    expect(ignored.status).toBe(503);
    expect(ignored.headers.get('x-errors')).toBe('-');
  });

  it('without an openApi document every status is unspecified; bad actions and sections are refused at load; the config checks the document', async () => {
    const g = await start('<validate-status-code unspecified-status-code-action="prevent" />', false);
    expect((await post(g)).status).toBe(502);
    await expect(start('<validate-status-code unspecified-status-code-action="block" />')).rejects.toThrow(/block/);
    await expect(env.start({ config: httpBackendConfig(backend.url, apiPolicy('<validate-status-code unspecified-status-code-action="detect" />')) })).rejects.toThrow(/POL3007/);
    const config = httpBackendConfig(backend.url, '');
    config.apis[0]!.openApi = { swagger: '2.0', paths: {} };
    await expect(env.start({ config })).rejects.toThrow(/apis\[0\]\.openApi\.openapi[\s\S]*OpenAPI 3/);
  });
});
