import { beforeEach, describe, expect, it } from 'vitest';
import { apiPolicy, httpBackendConfig } from '../../support/configs.js';
import { chatUrl } from '../../support/lab.js';
import { startContentBackend } from '../../support/content-backend.js';
import { useGatewayPerTest } from '../../support/scripted-gateway.js';
import type { EmulatorConfig } from '../../../emulator/config/schema.js';

/** Chat completions with a JSON request schema (messages required, additionalProperties allowed) and a 200 response schema. */
const OPEN_API = {
  openapi: '3.0.1',
  info: { title: 'inference', version: '1' },
  paths: {
    '/deployments/{deployment-id}/chat/completions': {
      post: {
        requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/chatRequest' } } } },
        responses: { '200': { description: 'OK', content: { 'application/json': { schema: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } } } } },
      },
    },
  },
  components: {
    schemas: {
      chatRequest: {
        type: 'object',
        required: ['messages'],
        additionalProperties: true,
        properties: { messages: { type: 'array', items: { type: 'object', properties: { role: { type: 'string' }, content: { type: 'string' } } } }, temperature: { type: 'number', nullable: true, maximum: 2 } },
      },
    },
  },
};

const ERRORS = '<set-header name="x-errors" exists-action="override"><value>@(context.Variables.ContainsKey("v") ? context.Variables["v"].ToString(Newtonsoft.Json.Formatting.None) : "-")</value></set-header>';

/** The reference's JSON example: missing and hal+json content types map to application/json, detect, additional properties refused. */
const EXAMPLE = `<validate-content unspecified-content-type-action="prevent" max-size="102400" size-exceeded-action="prevent" errors-variable-name="v">
    <content-type-map missing-content-type-value="application/json">
        <type from="application/hal+json" to="application/json" />
    </content-type-map>
    <content type="application/json" validate-as="json" action="detect" allow-additional-properties="false" />
</validate-content>`;

describe("validate-content against the API's openApi document", () => {
  const env = useGatewayPerTest(startContentBackend);
  const backend = env.backend;
  beforeEach(() => {
    backend.reply = { status: 200, contentType: 'application/json', body: '{"id":"x"}' };
  });
  const start = (inbound: string, outbound = '') => {
    const config: EmulatorConfig = httpBackendConfig(backend.url, apiPolicy(inbound, { outbound: `${outbound}${ERRORS}`, onError: ERRORS }));
    config.apis[0]!.openApi = OPEN_API;
    return env.start({ config });
  };
  const post = (g: { url: string; keyFor(n: string): string }, body: string, contentType: string | undefined = 'application/json') =>
    fetch(chatUrl(g.url), { method: 'POST', headers: { 'api-key': g.keyFor('subscription1'), ...(contentType ? { 'content-type': contentType } : {}) }, body });

  it("the reference's JSON example: a conforming body passes; an extra property (allow-additional-properties=false) and a wrong type are detected, not blocked", async () => {
    const g = await start(EXAMPLE);
    const ok = await post(g, '{"messages":[{"role":"user","content":"hi"}],"temperature":null}');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-errors')).toBe('-');
    const extra = await post(g, '{"messages":[],"stream_options":{}}', 'application/hal+json');
    expect(extra.status).toBe(200);
    expect(JSON.parse(extra.headers.get('x-errors')!)).toEqual([
      {
        Name: 'application/json',
        Type: 'RequestBody',
        ValidationRule: 'IncorrectMessage',
        Details: "Body of the request does not conform to the definition chatRequest, which is associated with the content type application/json. Property 'stream_options' has not been defined and the schema does not allow additional properties. Path ''.",
        Action: 'detect',
      },
    ]);
    const wrong = await post(g, '{"messages":"hi"}', undefined);
    expect(JSON.parse(wrong.headers.get('x-errors')!)[0].Details).toMatch(/Invalid type\. Expected array\. Path 'messages'\.$/);
  });

  it('prevent: an unspecified content type and an oversized body are 400s with the public messages; nothing reaches the backend', async () => {
    const g = await start(EXAMPLE.replace('max-size="102400"', 'max-size="40"'));
    const before = backend.received.length;
    const type = await post(g, '<a/>', 'text/xml');
    expect(type.status).toBe(400);
    expect((await type.json()).message).toBe('Unspecified content type text/xml is not allowed.');
    const body = JSON.stringify({ messages: [{ role: 'user', content: 'a long enough message' }] });
    const big = await post(g, body);
    expect(big.status).toBe(400);
    expect((await big.json()).message).toBe(`Request's body is ${Buffer.byteLength(body)} bytes long and it exceeds the limit of 40 bytes.`);
    expect(backend.received.length).toBe(before);
  });

  it('outbound: a response that does not match its schema is a 502 with the internal-error message when prevented', async () => {
    backend.reply = { status: 200, contentType: 'application/json', body: '{"object":"chat.completion"}' };
    const g = await start('', '<validate-content unspecified-content-type-action="detect" max-size="102400" size-exceeded-action="detect"><content validate-as="json" action="prevent" /></validate-content>');
    const res = await post(g, '{}');
    expect(res.status).toBe(502);
    expect((await res.json()).message).toBe('The request could not be processed due to an internal error. Contact the API owner.');
    backend.reply = { status: 200, contentType: 'application/json', body: '{"id":"chatcmpl-1"}' };
    expect((await post(g, '{}')).status).toBe(200);
  });

  it('refuses at load what is not emulated (XML/SOAP schemas, schema-id, <type when>) and max-size above 100 KB', async () => {
    await expect(start('<validate-content unspecified-content-type-action="prevent" max-size="100" size-exceeded-action="prevent"><content type="text/xml" validate-as="soap" action="prevent" /></validate-content>')).rejects.toThrow(/only JSON schema validation is emulated/);
    await expect(start('<validate-content unspecified-content-type-action="prevent" max-size="100" size-exceeded-action="prevent"><content validate-as="json" schema-id="myschema" action="prevent" /></validate-content>')).rejects.toThrow(/schema-id: schemas added to the instance are not emulated/);
    await expect(start('<validate-content unspecified-content-type-action="prevent" max-size="100" size-exceeded-action="prevent"><content-type-map><type when="@(true)" to="application/json" /></content-type-map></validate-content>')).rejects.toThrow(/<type when=…> is not emulated/);
    await expect(start('<validate-content unspecified-content-type-action="prevent" max-size="102401" size-exceeded-action="prevent" />')).rejects.toThrow(/max-size/);
  });
});
