import { beforeEach, describe, expect, it } from 'vitest';
import { apiPolicy, httpBackendConfig } from '../../support/configs.js';
import { chatUrl } from '../../support/lab.js';
import { startContentBackend } from '../../support/content-backend.js';
import { useGatewayPerTest } from '../../support/scripted-gateway.js';

/** json-to-xml and xml-to-json over HTTP: the reference's example, Newtonsoft's conventions, apply / consider-accept-header. */
describe('json-to-xml and xml-to-json', () => {
  const env = useGatewayPerTest(startContentBackend);
  const backend = env.backend;
  beforeEach(() => {
    backend.received.length = 0;
    backend.reply = { status: 200, contentType: 'application/json', body: '{}' };
  });
  const start = (inbound: string, sections: Parameters<typeof apiPolicy>[1] = {}) => env.start({ config: httpBackendConfig(backend.url, apiPolicy(inbound, sections)) });
  const call = (g: { url: string; keyFor(n: string): string }, headers: Record<string, string> = {}, body = '{}') =>
    fetch(chatUrl(g.url), { method: 'POST', headers: { 'api-key': g.keyFor('subscription1'), 'content-type': 'application/json', ...headers }, body });

  it("json-to-xml: the reference's SOAP example (namespace-separator ':', namespace-prefix xmlns, attribute-block-name #attrs)", async () => {
    backend.reply.body = JSON.stringify({
      'soapenv:Envelope': {
        'xmlns:soapenv': 'http://schemas.xmlsoap.org/soap/envelope/',
        'xmlns:v1': 'http://localdomain.com/core/v1',
        'soapenv:Header': {},
        'soapenv:Body': { 'v1:QueryList': { '#attrs': { queryName: 'test' }, 'v1:QueryItem': { name: 'dummy text' } } },
      },
    });
    const g = await start('', { outbound: '<json-to-xml apply="always" consider-accept-header="false" parse-date="false" namespace-separator=":" namespace-prefix="xmlns" attribute-block-name="#attrs" />' });
    const res = await call(g);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/xml');
    // The reference prints <name> directly under QueryList; Newtonsoft keeps the v1:QueryItem element, as here.
    expect(await res.text()).toBe(
      [
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:v1="http://localdomain.com/core/v1">',
        '  <soapenv:Header />',
        '  <soapenv:Body>',
        '    <v1:QueryList queryName="test">',
        '      <v1:QueryItem>',
        '        <name>dummy text</name>',
        '      </v1:QueryItem>',
        '    </v1:QueryList>',
        '  </soapenv:Body>',
        '</soapenv:Envelope>',
      ].join('\r\n'),
    );
  });

  it('json-to-xml: arrays repeat the element, @ properties are attributes, #text is text, several root properties go under <Document>, dates follow parse-date', async () => {
    backend.reply.body = JSON.stringify({ order: { '@id': '7', item: ['a', 'b'], note: { '@lang': 'en', '#text': 'x < y' }, empty: null, n: 1.5, ok: true, at: '2012-03-21T05:40Z' } });
    const g = await start('', { outbound: '<json-to-xml apply="content-type-json" consider-accept-header="false" />' });
    expect(await (await call(g)).text()).toBe(
      ['<order id="7">', '  <item>a</item>', '  <item>b</item>', '  <note lang="en">x &lt; y</note>', '  <empty />', '  <n>1.5</n>', '  <ok>true</ok>', '  <at>2012-03-21T05:40:00Z</at>', '</order>'].join('\r\n'),
    );
    backend.reply.body = '{"a":"2012-03-21T05:40Z","b":2}';
    const g2 = await start('', { outbound: '<json-to-xml apply="always" consider-accept-header="false" parse-date="false" />' });
    expect(await (await call(g2)).text()).toBe(['<Document>', '  <a>2012-03-21T05:40Z</a>', '  <b>2</b>', '</Document>'].join('\r\n'));
  });

  it('json-to-xml: apply="content-type-json" leaves a non-JSON body alone; consider-accept-header (default true) converts only when Accept asks for XML', async () => {
    backend.reply = { status: 200, contentType: 'text/plain', body: '{"a":1}' };
    const g = await start('', { outbound: '<json-to-xml apply="content-type-json" consider-accept-header="false" />' });
    const plain = await call(g);
    expect(await plain.text()).toBe('{"a":1}');
    expect(plain.headers.get('content-type')).toBe('text/plain');
    backend.reply = { status: 200, contentType: 'application/json', body: '{"a":1}' };
    const g2 = await start('', { outbound: '<json-to-xml apply="always" />' });
    expect(await (await call(g2)).text()).toBe('{"a":1}');
    expect(await (await call(g2, { accept: 'application/xml' })).text()).toBe('<a>1</a>');
  });

  it('json-to-xml inbound converts the request body for the backend; a body that is not JSON fails into on-error', async () => {
    const g = await start('<json-to-xml apply="always" consider-accept-header="false" />', {
      onError: '<return-response><set-status code="400" reason="Bad" /><set-body>@(context.LastError.Source + ": " + context.LastError.Reason)</set-body></return-response>',
    });
    expect((await call(g, {}, '{"req":{"q":"hi"}}')).status).toBe(200);
    expect(backend.received[0]!.body).toBe(['<req>', '  <q>hi</q>', '</req>'].join('\r\n'));
    expect(backend.received[0]!.headers['content-type']).toBe('application/xml');
    const bad = await call(g, {}, 'not json');
    expect(bad.status).toBe(400);
    expect(await bad.text()).toBe('json-to-xml: BodyConversionFailed');
  });

  it("xml-to-json kind=\"direct\": Newtonsoft's SerializeXmlNode form (declaration, @attributes, #text, arrays for repeated elements, null for empty)", async () => {
    backend.reply = {
      status: 200,
      contentType: 'text/xml; charset=utf-8',
      body: '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><r id="1"><item>a</item><item>b</item><empty/><t lang="en">hi</t><![CDATA[<raw>]]></r></soap:Body></soap:Envelope>',
    };
    const g = await start('', { outbound: '<xml-to-json kind="direct" apply="always" consider-accept-header="false" />' });
    const res = await call(g);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({
      '?xml': { '@version': '1.0', '@encoding': 'utf-8' },
      'soap:Envelope': {
        '@xmlns:soap': 'http://schemas.xmlsoap.org/soap/envelope/',
        'soap:Body': { r: { '@id': '1', item: ['a', 'b'], empty: null, t: { '@lang': 'en', '#text': 'hi' }, '#cdata-section': '<raw>' } },
      },
    });
  });

  it('xml-to-json: javascript-friendly leaves out the declaration; always-array-child-elements makes single children arrays; json:Array forces one; apply="content-type-xml" and Accept gate it', async () => {
    backend.reply = { status: 200, contentType: 'application/xml', body: '<?xml version="1.0"?><a xmlns:json="http://james.newtonking.com/projects/json"><b>1</b><c json:Array="true">2</c></a>' };
    const g = await start('', { outbound: '<xml-to-json kind="javascript-friendly" apply="content-type-xml" consider-accept-header="false" />' });
    expect(await (await call(g)).json()).toEqual({ a: { b: '1', c: ['2'] } }); // the json namespace and json:Array are Newtonsoft's markers, not data
    const g2 = await start('', { outbound: '<xml-to-json kind="direct" apply="always" consider-accept-header="false" always-array-child-elements="true" />' });
    expect((await (await call(g2)).json()).a.b).toEqual(['1']);
    const g3 = await start('', { outbound: '<xml-to-json kind="direct" apply="always" />' });
    expect(await (await call(g3)).text()).toMatch(/^<\?xml/);
    expect((await (await call(g3, { accept: 'application/json' })).json()).a.b).toBe('1');
    backend.reply = { status: 200, contentType: 'text/plain', body: '<a/>' };
    const g4 = await start('', { outbound: '<xml-to-json kind="javascript-friendly" apply="content-type-xml" consider-accept-header="false" />' });
    expect(await (await call(g4)).text()).toBe('<a/>');
  });

  it('xml-to-json: malformed XML fails into on-error; a missing or unknown kind is refused at load', async () => {
    backend.reply = { status: 200, contentType: 'application/xml', body: '<a><b></a>' };
    const g = await start('', {
      outbound: '<xml-to-json kind="direct" apply="always" consider-accept-header="false" />',
      onError: '<return-response><set-status code="502" reason="Bad" /><set-body>@(context.LastError.Source + ": " + context.LastError.Reason)</set-body></return-response>',
    });
    const res = await call(g);
    expect(res.status).toBe(502);
    expect(await res.text()).toBe('xml-to-json: BodyConversionFailed');
    await expect(start('', { outbound: '<xml-to-json apply="always" />' })).rejects.toThrow(/xml-to-json[\s\S]*kind/);
    await expect(start('', { outbound: '<xml-to-json kind="pretty" apply="always" />' })).rejects.toThrow(/pretty/);
  });
});
