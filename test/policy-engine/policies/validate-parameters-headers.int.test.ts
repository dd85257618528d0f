import { beforeEach, describe, expect, it } from 'vitest';
import { apiPolicy, httpBackendConfig } from '../../support/configs.js';
import { startContentBackend } from '../../support/content-backend.js';
import { useGatewayPerTest } from '../../support/scripted-gateway.js';
import type { EmulatorConfig } from '../../../emulator/config/schema.js';

/** The API schema: chat completions with its query, header and path parameters and the response headers of 200. */
const OPEN_API = {
  openapi: '3.0.1',
  info: { title: 'inference', version: '1' },
  paths: {
    '/deployments/{deployment-id}/chat/completions': {
      parameters: [{ name: 'deployment-id', in: 'path', required: true, schema: { type: 'string', pattern: '^gpt-' } }],
      post: {
        parameters: [
          { name: 'api-version', in: 'query', required: true, schema: { type: 'string', enum: ['2025-03-01-preview'] } },
          { $ref: '#/components/parameters/max' },
          { name: 'api-key', in: 'header', schema: { type: 'string' } },
          { name: 'x-tier', in: 'header', schema: { type: 'integer', minimum: 1, maximum: 3 } },
        ],
        responses: {
          '200': { description: 'OK', headers: { 'content-type': { schema: { type: 'string' } }, 'x-remaining': { schema: { type: 'integer' } } } },
        },
      },
    },
  },
  components: { parameters: { max: { name: 'max', in: 'query', schema: { type: 'integer' } } } },
};

const ERRORS = '<set-header name="x-errors" exists-action="override"><value>@(context.Variables.ContainsKey("v") ? context.Variables["v"].ToString(Newtonsoft.Json.Formatting.None) : "-")</value></set-header>';

describe('validate-parameters and validate-headers against the API\'s openApi document', () => {
  const env = useGatewayPerTest(startContentBackend);
  const backend = env.backend;
  beforeEach(() => {
    backend.reply = { status: 200, contentType: 'application/json', body: '{"ok":true}' };
  });
  const start = (inbound: string, outbound = '') => {
    const config: EmulatorConfig = httpBackendConfig(backend.url, apiPolicy(inbound, { outbound: `${outbound}${ERRORS}`, onError: ERRORS }));
    config.apis[0]!.openApi = OPEN_API;
    return env.start({ config });
  };
  const post = (g: { url: string; keyFor(n: string): string }, query = '', headers: Record<string, string> = {}, deployment = 'gpt-4.1-mini') =>
    fetch(`${g.url}/inference/openai/deployments/${deployment}/chat/completions?api-version=2025-03-01-preview${query}`, { method: 'POST', headers: { 'api-key': g.keyFor('subscription1'), 'content-type': 'application/json', ...headers }, body: '{}' });

  /** The reference's example: query and path prevent, headers detect, with per-header overrides. */
  const EXAMPLE = `<validate-parameters specified-parameter-action="prevent" unspecified-parameter-action="prevent" errors-variable-name="v">
    <headers specified-parameter-action="detect" unspecified-parameter-action="detect">
        <parameter name="Authorization" action="prevent" />
        <parameter name="User-Agent" action="ignore" />
        <parameter name="Host" action="ignore" />
        <parameter name="Referrer" action="ignore" />
    </headers>
</validate-parameters>`;

  it("the reference's example: conforming query/path pass, unspecified headers are only detected (overrides ignore User-Agent and Host)", async () => {
    const g = await start(EXAMPLE);
    const res = await post(g, '&max=5', { 'x-tier': '7' });
    expect(res.status).toBe(200);
    const errors = JSON.parse(res.headers.get('x-errors')!) as Array<{ Name: string; Type: string; ValidationRule: string; Details: string; Action: string }>;
    expect(errors.every((e) => e.Type === 'RequestHeader' && e.Action === 'detect')).toBe(true);
    const names = errors.map((e) => e.Name.toLowerCase());
    expect(names).toContain('content-type');
    expect(names).not.toContain('user-agent');
    expect(names).not.toContain('host');
    expect(names).not.toContain('api-key');
    expect(errors.find((e) => e.Name.toLowerCase() === 'x-tier')).toEqual({ Name: 'x-tier', Type: 'RequestHeader', ValidationRule: 'IncorrectMessage', Details: 'Value of the header x-tier does not conform to the definition.\n\nInteger 7 exceeds maximum value of 3.', Action: 'detect' });
  });

  it('prevent: an unspecified query parameter, a non-integer, a value outside the enum, a path not matching the pattern and a prevented header are 400s with the public message', async () => {
    const g = await start(EXAMPLE);
    const before = backend.received.length;
    const refused = async (query: string, headers: Record<string, string> = {}, deployment?: string) => {
      const res = await post(g, query, headers, deployment);
      expect(res.status).toBe(400);
      return ((await res.json()) as { message: string }).message;
    };
    expect(await refused('&foo=1')).toBe('Unspecified query parameter foo is not allowed.');
    expect(await refused('&max=x')).toBe("The value of the query parameter max does not conform to the definition.\n\nValue 'x' is not a valid integer.");
    expect(await refused('&max=1&max=2')).toBe('Request cannot contain multiple values for the query parameter max.');
    expect(await refused('', {}, 'llama-3')).toBe("The value of the path parameter deployment-id does not conform to the definition.\n\nString 'llama-3' does not match regex pattern '^gpt-'.");
    expect(await refused('', { authorization: 'Bearer x' })).toBe('Unspecified header authorization is not allowed.');
    expect(backend.received.length).toBe(before); // none of them reached the backend
  });

  it("validate-headers, the reference's example (specified ignore, unspecified prevent): an undeclared response header is a 502; detect logs the checks of declared ones", async () => {
    backend.reply = { status: 200, contentType: 'application/json', body: '{}', headers: { 'x-remaining': 'lots' } };
    const g = await start('', '<validate-headers specified-header-action="ignore" unspecified-header-action="prevent" errors-variable-name="v" />');
    const res = await post(g);
    expect(res.status).toBe(502);
    expect((await res.json()).message).toBe('The request could not be processed due to an internal error. Contact the API owner.');
    const g2 = await start('', '<validate-headers specified-header-action="detect" unspecified-header-action="ignore" errors-variable-name="v"><header name="x-remaining" action="detect" /></validate-headers>');
    const detected = await post(g2);
    expect(detected.status).toBe(200);
    expect(JSON.parse(detected.headers.get('x-errors')!)).toEqual([
      { Name: 'x-remaining', Type: 'ResponseHeader', ValidationRule: 'IncorrectMessage', Details: "Value of the header x-remaining does not conform to the definition.\n\nValue 'lots' is not a valid integer.", Action: 'detect' },
    ]);
  });

  it('are refused where the reference does not allow them, twice in a section, or with unknown actions', async () => {
    await expect(start('', '<validate-parameters specified-parameter-action="detect" unspecified-parameter-action="detect" />')).rejects.toThrow(/POL3007/);
    await expect(start('<validate-headers specified-header-action="detect" unspecified-header-action="detect" />')).rejects.toThrow(/POL3007/);
    await expect(start('<validate-parameters specified-parameter-action="detect" unspecified-parameter-action="detect" /><validate-parameters specified-parameter-action="detect" unspecified-parameter-action="detect" />')).rejects.toThrow(/only be used once/);
    await expect(start('<validate-parameters specified-parameter-action="warn" unspecified-parameter-action="detect" />')).rejects.toThrow(/warn/);
  });
});
