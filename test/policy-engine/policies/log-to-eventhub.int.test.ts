import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, DEFAULT_TEST_START_TIME, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { createMemoryEventHubLog, PolicyLoadError, type EventHubMessage } from '../../../policy-engine/index.js';
import { apiPolicy, httpBackendConfig } from '../../support/configs.js';
import { labPost } from '../../support/lab.js';
import { startScriptedBackend, type ScriptedBackend } from '../../support/scripted-backend.js';

/** log-to-eventhub: messages kept in memory per logger, read back through the control plane. */
describe('log-to-eventhub', () => {
  let backend: ScriptedBackend;
  let gw: RunningEmulator;
  beforeAll(async () => {
    backend = await startScriptedBackend();
    gw = await startEmulator({ config: httpBackendConfig(backend.url, '') });
  });
  afterAll(async () => {
    await gw?.close();
    await backend?.close();
  });
  beforeEach(async () => {
    await gw.reset();
  });
  const messages = async (logger: string) => (await (await fetch(`${gw.url}/_emulator/eventhub/${logger}/messages`)).json()) as any;
  const setApi = (inbound: string, outbound = '') => gw.policies.set('apis/inference-api', apiPolicy(inbound, { outbound }));

  it('keeps each message with its logger, partition and time on the emulator clock; GET returns them oldest first', async () => {
    setApi(
      `<log-to-eventhub logger-id="contoso-logger" partition-key="@(context.Subscription.Name)">@(string.Join(",", context.Deployment.ServiceName, context.Request.Method, context.Operation.Id))</log-to-eventhub>`,
      `<log-to-eventhub logger-id="contoso-logger" partition-id="1">
         response @(context.Response.StatusCode)
       </log-to-eventhub>`,
    );
    const res = await labPost(gw.url, gw.keyFor('subscription1'));
    expect(res.status).toBe(200);
    const requestId = res.headers.get('x-ms-request-id') ?? expect.any(String);
    const body = await messages('contoso-logger');
    expect(body).toMatchObject({ loggerId: 'contoso-logger', count: 2, dropped: 0 });
    expect(body.messages[0]).toEqual({
      timestamp: DEFAULT_TEST_START_TIME,
      partitionKey: 'Subscription 1',
      message: 'apim-emulator,POST,chatcompletions-create',
      truncated: false,
      requestId,
    });
    expect(body.messages[1]).toMatchObject({ partitionId: '1', message: 'response @(context.Response.StatusCode)' });
    expect((await (await fetch(`${gw.url}/_emulator/eventhub`)).json())).toEqual([{ loggerId: 'contoso-logger', count: 2, dropped: 0 }]);
    expect(await messages('other')).toEqual({ loggerId: 'other', count: 0, dropped: 0, messages: [] });
  });

  it('cuts a message to 200 KB, as APIM does', async () => {
    setApi(`<log-to-eventhub logger-id="big">@(new string('a', 250000))</log-to-eventhub>`);
    await labPost(gw.url, gw.keyFor('subscription1'));
    const [m] = (await messages('big')).messages;
    expect(m.truncated).toBe(true);
    expect(m.message).toHaveLength(200 * 1024);
  });

  it('reset clears the messages', async () => {
    setApi(`<log-to-eventhub logger-id="l">x</log-to-eventhub>`);
    await labPost(gw.url, gw.keyFor('subscription1'));
    expect((await messages('l')).count).toBe(1);
    expect((await fetch(`${gw.url}/_emulator/reset`, { method: 'POST' })).status).toBe(200);
    expect((await messages('l')).count).toBe(0);
  });

  it('the in-memory log keeps at most its bound per logger, dropping the oldest and counting them', () => {
    const log = createMemoryEventHubLog({ bound: 3 });
    const m = (i: number, loggerId = 'a'): EventHubMessage => ({ loggerId, timestamp: i, message: String(i), truncated: false, requestId: `r${i}` });
    for (let i = 1; i <= 5; i++) log.append(m(i));
    log.append(m(9, 'b'));
    expect(log.messages('a')).toEqual({ messages: [m(3), m(4), m(5)], dropped: 2 });
    expect(log.messages('b').messages).toEqual([m(9, 'b')]);
  });

  it('load: partition-id and partition-key are exclusive, partition-id is an index, logger-id takes no expression', () => {
    const codes = (inner: string) => {
      try {
        gw.emulator.validatePolicy({ kind: 'api', apiId: 'inference-api' }, apiPolicy(inner));
        return [];
      } catch (error) {
        if (error instanceof PolicyLoadError) return error.toJSON().map((d) => d.code);
        throw error;
      }
    };
    expect(codes(`<log-to-eventhub logger-id="l" partition-id="1" partition-key="k">x</log-to-eventhub>`)).toEqual(['POL3012']);
    expect(codes(`<log-to-eventhub logger-id="l" partition-id="first">x</log-to-eventhub>`)).toEqual(['POL3004']);
    expect(codes(`<log-to-eventhub logger-id="@(&quot;l&quot;)">x</log-to-eventhub>`)).toEqual(['POL3006']);
    expect(codes(`<log-to-eventhub>x</log-to-eventhub>`)).toEqual(['POL3003']);
  });
});
