import { beforeEach, describe, expect, it } from 'vitest';
import { labPost } from '../../support/lab.js';
import { putPolicy } from '../../support/policy-control.js';
import { useScriptedGateway } from '../../support/scripted-gateway.js';

/** An API policy whose backend section is empty (the reference's Dapr examples: the request is not forwarded). */
const noBackend = (inbound: string, onError = '') =>
  `<policies><inbound><base />${inbound}</inbound><backend></backend><outbound><base /></outbound><on-error><base />${onError}</on-error></policies>`;

describe('send-service-bus-message, publish-to-dapr and invoke-dapr-binding over HTTP', () => {
  const { backend, gw } = useScriptedGateway();
  beforeEach(async () => {
    backend.received.length = 0;
    await fetch(`${gw.url}/_emulator/reset`, { method: 'POST' });
  });
  const messages = async (kind: string, query = '') => {
    const res = await fetch(`${gw.url}/_emulator/messages/${kind}${query}`);
    expect(res.status).toBe(200);
    return (await res.json()) as { kind: string; messages: Array<Record<string, any>>; dropped: number };
  };
  const call = (headers: Record<string, string> = {}) => labPost(gw.url, gw.keyFor('subscription1'), headers);

  it('send-service-bus-message: the reference example (queue, user-assigned identity, the request body) is kept with its namespace and client id', async () => {
    gw.policies.set(
      'apis/inference-api',
      noBackend(`<send-service-bus-message queue-name="orders" client-id="00001111-aaaa-2222-bbbb-3333cccc4444" namespace="my-service-bus.servicebus.windows.net">
           <payload>@(context.Request.Body.As&lt;string&gt;(preserveContent: true))</payload>
        </send-service-bus-message>`),
    );
    const res = await call();
    expect(res.status).toBe(200);
    const { messages: sent, dropped } = await messages('service-bus');
    expect(dropped).toBe(0);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      kind: 'service-bus',
      target: 'orders',
      properties: {},
      details: { entityType: 'queue', namespace: 'my-service-bus.servicebus.windows.net', clientId: '00001111-aaaa-2222-bbbb-3333cccc4444' },
      requestId: res.headers.get('apim-request-id'),
    });
    expect(JSON.parse(sent[0]!.payload as string).messages[1].content).toBe('Can you tell me the time, please?');
    expect(sent[0]!.timestamp).toBe(new Date(gw.emulator.clock.now()).toISOString());
  });

  it('send-service-bus-message: a topic with a message property (the reference example), filtered by ?target=', async () => {
    gw.policies.set(
      'apis/inference-api',
      noBackend(`<send-service-bus-message topic-name="@(&quot;ord&quot; + &quot;ers&quot;)" namespace="my-service-bus.servicebus.windows.net">
           <message-properties>
              <message-property name="Customer">Contoso</message-property>
              <message-property name="Ip">@(context.Request.IpAddress)</message-property>
           </message-properties>
           <payload>hello</payload>
        </send-service-bus-message>`),
    );
    await call();
    await call();
    const { messages: sent } = await messages('service-bus', '?target=orders');
    expect(sent).toHaveLength(2);
    expect(sent[0]).toMatchObject({ target: 'orders', payload: 'hello', properties: { Customer: 'Contoso', Ip: '127.0.0.1' }, details: { entityType: 'topic' } });
    expect((await messages('service-bus', '?target=other')).messages).toHaveLength(0);
    expect((await messages('dapr-pubsub')).messages).toHaveLength(0);
  });

  it('publish-to-dapr: the reference example publishes the body to orders/new, stores the sidecar answer (204) and answers 200 without a backend call', async () => {
    gw.policies.set(
      'apis/inference-api',
      noBackend(
        `<publish-to-dapr pubsub-name="orders" topic="new" response-variable-name="dapr-response">@(context.Request.Body.As&lt;string&gt;())</publish-to-dapr>
         <set-header name="x-dapr-status" exists-action="override"><value>@(((IResponse)context.Variables["dapr-response"]).StatusCode.ToString())</value></set-header>`,
      ),
    );
    const res = await call();
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    expect(backend.received).toHaveLength(0);
    const { messages: sent } = await messages('dapr-pubsub');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ target: 'orders/new', details: { pubsubName: 'orders', topic: 'new' } });
    expect(JSON.parse(sent[0]!.payload as string).messages).toHaveLength(2);
  });

  it('publish-to-dapr: without pubsub-name the topic names both; a Liquid template renders the content', async () => {
    gw.policies.set(
      'apis/inference-api',
      noBackend(`<publish-to-dapr topic="orders/new" template="Liquid" content-type="application/json">{ "first": "{{body.messages[0].role}}" }</publish-to-dapr>`),
    );
    await call();
    const { messages: sent } = await messages('dapr-pubsub');
    expect(sent[0]).toMatchObject({ target: 'orders/new', payload: '{ "first": "system" }', details: { contentType: 'application/json' } });
  });

  it('publish-to-dapr: a computed topic without a pubsub part is the sidecar error: on-error runs (500), or nothing happens with ignore-error', async () => {
    gw.policies.set(
      'apis/inference-api',
      noBackend(
        `<publish-to-dapr topic="@(&quot;new&quot;)">x</publish-to-dapr>`,
        `<set-header name="x-reason" exists-action="override"><value>@(context.LastError.Source + "/" + context.LastError.Reason)</value></set-header>`,
      ),
    );
    const failed = await call();
    expect(failed.status).toBe(500);
    expect(failed.headers.get('x-reason')).toBe('publish-to-dapr/DaprRuntimeError');
    gw.policies.set('apis/inference-api', noBackend(`<publish-to-dapr topic="@(&quot;new&quot;)" ignore-error="true">x</publish-to-dapr>`));
    expect((await call()).status).toBe(200);
    expect((await messages('dapr-pubsub')).messages).toHaveLength(0);
  });

  it('invoke-dapr-binding: the reference example sends operation, metadata (with an expression) and data; reset clears the messages', async () => {
    gw.policies.set(
      'apis/inference-api',
      noBackend(`<invoke-dapr-binding name="external-system" operation="create" response-variable-name="bind-response">
            <metadata>
                <item key="source">api-management</item>
                <item key="client-ip">@(context.Request.IpAddress )</item>
            </metadata>
            <data>
                @(context.Request.Body.As&lt;string&gt;() )
            </data>
        </invoke-dapr-binding>
        <return-response response-variable-name="bind-response" />`),
    );
    const res = await call();
    expect(res.status).toBe(204);
    const { messages: sent } = await messages('dapr-binding');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ target: 'external-system', properties: { source: 'api-management', 'client-ip': '127.0.0.1' }, details: { operation: 'create' } });
    expect(JSON.parse(sent[0]!.payload as string).messages).toHaveLength(2);
    await fetch(`${gw.url}/_emulator/reset`, { method: 'POST' });
    expect((await messages('dapr-binding')).messages).toHaveLength(0);
  });

  it('keeps the newest 1,000 messages of a kind and counts the dropped ones', async () => {
    const log = gw.emulator.engine.services.messages!;
    for (let i = 0; i < 1_005; i++) log.append({ kind: 'service-bus', timestamp: 0, requestId: String(i), target: 'q', payload: String(i), properties: {}, details: {} });
    const { messages: kept, dropped } = await messages('service-bus');
    expect(kept).toHaveLength(1_000);
    expect(kept[0]!.payload).toBe('5');
    expect(dropped).toBe(5);
  });

  it('an unknown kind is 404 naming the kinds', async () => {
    const res = await fetch(`${gw.url}/_emulator/messages/event-grid`);
    expect(res.status).toBe(404);
    expect((await res.json()).error.message).toContain('service-bus, dapr-pubsub, dapr-binding');
  });

  it.each([
    ['both queue-name and topic-name', '<send-service-bus-message queue-name="a" topic-name="b"><payload>x</payload></send-service-bus-message>', 'POL3012', 'send-service-bus-message'],
    ['no payload', '<send-service-bus-message queue-name="a" />', 'POL3011', 'send-service-bus-message'],
    ['an unknown child', '<send-service-bus-message queue-name="a"><payload>x</payload><session-id>1</session-id></send-service-bus-message>', 'POL3010', 'session-id'],
    ['a Dapr timeout out of range', '<publish-to-dapr topic="a/b" timeout="241">x</publish-to-dapr>', 'POL3004', '241'],
    ['a Dapr content-type other than JSON', '<publish-to-dapr topic="a/b" content-type="text/plain">x</publish-to-dapr>', 'POL3004', 'text/plain'],
    ['an expression in operation', '<invoke-dapr-binding name="b" operation="@(&quot;x&quot;)" />', 'POL3006', '@('],
    ['a constant topic without a pubsub', '<publish-to-dapr topic="new">x</publish-to-dapr>', 'POL3012', 'publish-to-dapr'],
    ['publish-to-dapr in outbound', '<outbound><publish-to-dapr topic="a/b">x</publish-to-dapr></outbound>', 'POL3007', 'publish-to-dapr'],
  ])('refuses %s at load with its code and position', async (_what, policy, code, needle) => {
    const xml = `<policies>\n${policy.startsWith('<outbound>') ? policy : `<inbound>${policy}</inbound>`}\n</policies>`;
    const { status, body } = await putPolicy(gw.url, 'apis/inference-api', xml);
    expect(status).toBe(400);
    const line2 = xml.split('\n')[1]!;
    expect(body.error.details[0]).toMatchObject({ code, line: 2, column: 1 + line2.indexOf(needle) });
  });
});

describe('GraphQL resolver policies are refused at load, saying why', () => {
  const { gw } = useScriptedGateway();
  it.each(['sql-data-source', 'cosmosdb-data-source', 'http-data-source', 'publish-event'])('%s: POL3001 naming the policy and GraphQL', async (name) => {
    const { status, body } = await putPolicy(gw.url, 'apis/inference-api', `<policies>\n<inbound><${name} /></inbound>\n</policies>`);
    expect(status).toBe(400);
    expect(body.error.details[0]).toMatchObject({ code: 'POL3001', line: 2, column: 11 });
    expect(body.error.details[0].message).toMatch(new RegExp(`^Policy '${name}' is not emulated: .*GraphQL APIs are not emulated.*--loose`));
  });
});
