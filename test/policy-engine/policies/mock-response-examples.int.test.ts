import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';

/** An API whose OpenAPI 3 document has examples, named examples and schemas for GET /pets/{id}. */
const openApi = {
  openapi: '3.0.1',
  info: { title: 'pets', version: '1' },
  paths: {
    '/pets/{petId}': {
      get: {
        responses: {
          '200': {
            description: 'a pet',
            content: {
              'application/json': { example: { id: 7, name: 'Rex' } },
              'application/xml': { example: '<pet><id>7</id><name>Rex</name></pet>' },
            },
          },
          '201': { description: 'named', content: { 'application/json': { examples: { first: { value: { id: 1 } }, second: { value: { id: 2 } } } } } },
          '404': { $ref: '#/components/responses/NotFound' },
          '500': { description: 'no content' },
        },
      },
    },
  },
  components: {
    responses: { NotFound: { description: 'missing', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } } },
    schemas: {
      Problem: {
        type: 'object',
        properties: {
          code: { type: 'integer' },
          message: { type: 'string' },
          retryable: { type: 'boolean' },
          when: { type: 'string', format: 'date-time' },
          kind: { type: 'string', enum: ['NotFound', 'Gone'] },
          tags: { type: 'array', items: { type: 'string' } },
          detail: { type: 'string', example: 'no such pet' },
        },
      },
    },
  },
};

describe('mock-response with the API schema (apis[].openApi) over HTTP', () => {
  let gw: RunningEmulator;
  beforeAll(async () => {
    gw = await startEmulator({
      config: {
        apis: [{ id: 'pets', path: 'pets-api', subscriptionRequired: false, serviceUrl: 'http://127.0.0.1:1', openApi, operations: [{ id: 'get-pet', method: 'GET', urlTemplate: '/pets/{id}' }] }],
      },
    });
  });
  afterAll(async () => gw?.close());
  const mock = async (attributes: string) => {
    gw.policies.set('apis/pets', `<policies><inbound><base /><mock-response ${attributes} /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>`);
    const res = await fetch(`${gw.url}/pets-api/pets/7`);
    return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
  };

  it('<mock-response/>: 200 with the first content type listed and its example (the reference example)', async () => {
    expect(await mock('')).toEqual({ status: 200, type: 'application/json', body: JSON.stringify({ id: 7, name: 'Rex' }, null, 2) });
  });

  it("content-type picks that media type's example (the reference example with application/json; XML as written)", async () => {
    expect(await mock(`status-code='200' content-type='application/json'`)).toMatchObject({ status: 200, type: 'application/json', body: JSON.stringify({ id: 7, name: 'Rex' }, null, 2) });
    expect(await mock(`status-code="200" content-type="application/xml"`)).toEqual({ status: 200, type: 'application/xml', body: '<pet><id>7</id><name>Rex</name></pet>' });
  });

  it('named examples: the first one', async () => {
    expect(await mock(`status-code="201"`)).toEqual({ status: 201, type: 'application/json', body: JSON.stringify({ id: 1 }, null, 2) });
  });

  it('no example: a sample generated from the schema ($ref responses and schemas resolved)', async () => {
    const res = await mock(`status-code="404"`);
    expect(res.status).toBe(404);
    expect(res.type).toBe('application/problem+json');
    expect(JSON.parse(res.body)).toEqual({ code: 0, message: 'string', retryable: true, when: '1970-01-01T00:00:00Z', kind: 'NotFound', tags: ['string'], detail: 'no such pet' });
  });

  it('no example and no schema, or a media type the response does not list: no body (content-type still sent when given)', async () => {
    expect(await mock(`status-code="500"`)).toEqual({ status: 500, type: null, body: '' });
    expect(await mock(`status-code="200" content-type="text/csv"`)).toEqual({ status: 200, type: 'text/csv', body: '' });
    expect(await mock(`status-code="418"`)).toEqual({ status: 418, type: null, body: '' });
  });
});
