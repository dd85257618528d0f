import { beforeEach, describe, expect, it } from 'vitest';
import { apiPolicy, httpBackendConfig } from '../../support/configs.js';
import { chatUrl } from '../../support/lab.js';
import { startContentBackend } from '../../support/content-backend.js';
import { useGatewayPerTest } from '../../support/scripted-gateway.js';

/** set-body template="liquid" over HTTP: the reference's two examples, context binding, APIM's filter set, refusals. */
describe('set-body template="liquid"', () => {
  const env = useGatewayPerTest(startContentBackend);
  const backend = env.backend;
  beforeEach(() => {
    backend.received.length = 0;
    backend.reply = { status: 200, contentType: 'application/json', body: '{}' };
  });
  const start = (inbound: string, sections: Parameters<typeof apiPolicy>[1] = {}, extra = {}) => env.start({ config: httpBackendConfig(backend.url, apiPolicy(inbound, sections), extra) });
  const post = (g: { url: string; keyFor(n: string): string }, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${chatUrl(g.url)}&tag=a&tag=b`, { method: 'POST', headers: { 'api-key': g.keyFor('subscription1'), 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  it("the reference's JSON-to-SOAP example: the template's markup is the body, {{body.…}} reads the JSON request", async () => {
    const g = await start(`<set-body template="liquid">
    <soap:Envelope xmlns="http://tempuri.org/" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
        <soap:Body>
            <GetOpenOrders>
                <cust>{{body.getOpenOrders.cust}}</cust>
            </GetOpenOrders>
        </soap:Body>
    </soap:Envelope>
</set-body>`);
    expect((await post(g, { getOpenOrders: { cust: 'ACME & Co' } })).status).toBe(200);
    const sent = backend.received[0]!.body;
    expect(sent).toContain('<cust>ACME & Co</cust>');
    expect(sent.trim().startsWith('<soap:Envelope xmlns="http://tempuri.org/" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">')).toBe(true);
    expect(sent.trim().endsWith('</soap:Envelope>')).toBe(true);
  });

  it("the reference's JSON transform example, in outbound over the backend's JSON", async () => {
    backend.reply.body = JSON.stringify({ customer: { purchase: { identifier: 'P-1', orderShortDesc: 'two books' } } });
    const g = await start('', { outbound: `<set-body template="liquid">
{
"order": {
    "id": "{{body.customer.purchase.identifier}}",
    "summary": "{{body.customer.purchase.orderShortDesc}}"
    }
}
</set-body>` });
    const res = await post(g, {});
    expect(await res.json()).toEqual({ order: { id: 'P-1', summary: 'two books' } });
    expect(res.headers.get('content-length')).not.toBeNull();
  });

  it('binds an XML body (Content-Type application/xml), loops, and xsi-nil / parse-date shape the values', async () => {
    backend.reply = {
      status: 200,
      contentType: 'application/xml',
      body: '<orders xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><order id="1"><total>5</total><note xsi:nil="true"/><at>2012-03-21T05:40:00Z</at></order><order id="2"><total>7</total><note>x</note><at>2012-03-22T00:00:00Z</at></order></orders>',
    };
    const g = await start('', { outbound: '<set-body template="liquid">{% for o in body.orders.order %}{{o["@id"]}}:{{o.total | Times: 2}}:[{{o.note}}]:{{o.at}}|{% endfor %}</set-body>' });
    expect(await (await post(g, {})).text()).toBe('1:10:[]:03/21/2012 05:40:00|2:14:[x]:03/22/2012 00:00:00|');
    const g2 = await start('', { outbound: '<set-body template="liquid" xsi-nil="null" parse-date="false">{% for o in body.orders.order %}{% if o.note == nil %}nil{% else %}{{o.note}}{% endif %}:{{o.at}}|{% endfor %}</set-body>' });
    expect(await (await post(g2, {})).text()).toBe('nil:2012-03-21T05:40:00Z|x:2012-03-22T00:00:00Z|');
  });

  it('binds context (Request.Method, Url parts, Headers, MatchedParameters, Response.StatusCode, Variables)', async () => {
    const g = await start('<set-variable name="who" value="@(context.Subscription.Id)" />', {
      outbound:
        '<set-body template="liquid">{{context.Request.Method}} {{context.Request.Url.Path}} {{context.Request.Url.Query.tag}} {{context.Request.Headers["X-Client"]}} {{context.Request.MatchedParameters["deployment-id"]}} {{context.Response.StatusCode}} {{context.Variables.who}} {{context.Request.OriginalUrl.Scheme}}</set-body>',
    });
    const text = await (await post(g, {}, { 'x-client': 'tests' })).text();
    expect(text).toBe('POST /inference/openai/deployments/gpt-4.1-mini/chat/completions a,b tests gpt-4.1-mini 200 subscription1 http');
  });

  it('filters are the Pascal-case set the reference lists (Date takes .NET formats); snake_case filters and file tags are refused at load', async () => {
    const g = await start(
      '<set-body template="liquid">{{body.name | Upcase | Append: "!"}} {{body.items | Join: "+"}} {{body.items | Size}} {{body.at | Date: "yyyyMMddTHH:mm:ssZ"}} {{body.missing | Default: "none"}} {{body.price | Currency}} {{body.text | TruncateWords: 2}} {{body.n | DividedBy: 4 | AtLeast: 1}}</set-body>',
    );
    expect((await post(g, { name: 'ada', items: ['a', 'b', 'c'], at: '2024-05-06T07:08:09Z', price: 1234.5, text: 'one two three', n: 10 })).status).toBe(200);
    expect(backend.received[0]!.body).toBe('ADA! a+b+c 3 20240506T07:08:09Z none $1,234.50 one two... 2');
    await expect(start('<set-body template="liquid">{{body.name | upcase}}</set-body>')).rejects.toThrow(/POL3012[\s\S]*filter 'upcase' is not one API Management's Liquid supports/);
    await expect(start('<set-body template="liquid">{% include "header" %}</set-body>')).rejects.toThrow(/Liquid template: tag "include" not found/);
  });

  it('{{…}} inside a Liquid set-body is template output, not a named value; a defined named value is still substituted', async () => {
    const g = await start('<set-body template="liquid">{{tenant}}-{{body.a}}</set-body>', {}, { namedValues: { tenant: 'contoso' } });
    await post(g, { a: 1 });
    expect(backend.received[0]!.body).toBe('contoso-1');
    await expect(start('<set-body>{{body.a}}</set-body>')).rejects.toThrow(/Named value 'body.a' is not defined/);
  });

  it('inside return-response the template sees an empty body (as the reference warns); a plain set-body keeps literal XML content', async () => {
    const g = await start('<return-response><set-status code="200" reason="OK" /><set-body template="liquid">[{{body.a}}]</set-body></return-response>');
    expect(await (await post(g, { a: 1 })).text()).toBe('[]');
    const g2 = await start('<set-body><root><a x="1">t</a></root></set-body>');
    await post(g2, {});
    expect(backend.received[0]!.body).toBe('<root><a x="1">t</a></root>');
  });
});
