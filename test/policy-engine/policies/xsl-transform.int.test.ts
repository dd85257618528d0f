import { beforeEach, describe, expect, it } from 'vitest';
import { apiPolicy, httpBackendConfig } from '../../support/configs.js';
import { chatUrl } from '../../support/lab.js';
import { startContentBackend } from '../../support/content-backend.js';
import { putPolicy } from '../../support/policy-control.js';
import { useGatewayPerTest } from '../../support/scripted-gateway.js';

const ORDER = '<?xml version="1.0"?><order id="7"><item sku="a">Tea</item><item sku="b">Milk</item></order>';

/** The reference's "Transform request body" example. */
const REQUEST_EXAMPLE = `<xsl-transform>
        <parameter name="User-Agent">@(context.Request.Headers.GetValueOrDefault("User-Agent","non-specified"))</parameter>
        <xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
            <xsl:output method="xml" indent="yes" />
            <xsl:param name="User-Agent" />
            <xsl:template match="* | @* | node()">
                <xsl:copy>
                    <xsl:if test="self::* and not(parent::*)">
                        <xsl:attribute name="User-Agent">
                            <xsl:value-of select="$User-Agent" />
                        </xsl:attribute>
                    </xsl:if>
                    <xsl:apply-templates select="* | @* | node()" />
                </xsl:copy>
            </xsl:template>
        </xsl:stylesheet>
      </xsl-transform>`;

/** The reference's "Transform response body" example. */
const RESPONSE_EXAMPLE = `<xsl-transform>
          <xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
            <xsl:output omit-xml-declaration="yes" method="xml" indent="yes" />
            <!-- Copy all nodes directly-->
            <xsl:template match="node()| @*|*">
                <xsl:copy>
                    <xsl:apply-templates select="@* | node()|*" />
                </xsl:copy>
            </xsl:template>
          </xsl:stylesheet>
    </xsl-transform>`;

describe('xsl-transform over HTTP', () => {
  const env = useGatewayPerTest(startContentBackend);
  const backend = env.backend;
  beforeEach(() => {
    backend.received.length = 0;
    backend.reply = { status: 200, contentType: 'application/xml', body: ORDER };
  });
  const start = (inbound: string, sections: Parameters<typeof apiPolicy>[1] = {}) => env.start({ config: httpBackendConfig(backend.url, apiPolicy(inbound, sections)) });
  const call = (g: { url: string; keyFor(n: string): string }, body = ORDER, headers: Record<string, string> = {}) =>
    fetch(chatUrl(g.url), { method: 'POST', headers: { 'api-key': g.keyFor('subscription1'), 'content-type': 'application/xml', ...headers }, body });

  it('the request example: the root element gets the User-Agent parameter; method="xml" output starts with the XML declaration', async () => {
    const g = await start(REQUEST_EXAMPLE);
    const res = await call(g, ORDER, { 'user-agent': 'contoso-client/1.0' });
    expect(res.status).toBe(200);
    expect(backend.received[0]!.body).toBe(
      '<?xml version="1.0" encoding="utf-8"?><order User-Agent="contoso-client/1.0" id="7">\n  <item sku="a">Tea</item>\n  <item sku="b">Milk</item>\n</order>',
    );
  });

  it('the response example: an identity copy without the declaration (omit-xml-declaration="yes")', async () => {
    const g = await start('', { outbound: RESPONSE_EXAMPLE });
    const res = await call(g);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('<order id="7">\n  <item sku="a">Tea</item>\n  <item sku="b">Milk</item>\n</order>');
  });

  it('a stylesheet producing text, with a literal parameter-name parameter (the statement form)', async () => {
    const g = await start('', {
      outbound: `<xsl-transform><parameter parameter-name="sep">; </parameter>
        <xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
          <xsl:output method="text" /><xsl:param name="sep" />
          <xsl:template match="/"><xsl:for-each select="order/item"><xsl:sort select="." /><xsl:value-of select="concat(@sku, '=', .)" /><xsl:if test="position() != last()"><xsl:value-of select="$sep" /></xsl:if></xsl:for-each></xsl:template>
        </xsl:stylesheet></xsl-transform>`,
    });
    expect(await (await call(g)).text()).toBe('b=Milk;a=Tea');
  });

  it('a body that is not XML: on-error (500) with Source xsl-transform, the backend not called', async () => {
    const g = await start(REQUEST_EXAMPLE, { onError: `<set-header name="x-error" exists-action="override"><value>@(context.LastError.Source + "/" + context.LastError.Reason)</value></set-header>` });
    const res = await call(g, '{"not":"xml"}');
    expect(res.status).toBe(500);
    expect(res.headers.get('x-error')).toBe('xsl-transform/XslTransformFailure');
    expect(backend.received).toHaveLength(0);
  });

  it.each([
    ['an XSLT 2.0 element', '<xsl:stylesheet version="2.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:template match="/"><xsl:for-each-group select="*" group-by="." /></xsl:template></xsl:stylesheet>', 'POL3010', 'xsl:for-each-group'],
    ['xsl:include', '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:include href="common.xsl" /></xsl:stylesheet>', 'POL3010', 'xsl:include'],
    ['msxsl:script', '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:msxsl="urn:schemas-microsoft-com:xslt"><msxsl:script language="C#">x</msxsl:script></xsl:stylesheet>', 'POL3012', 'msxsl:script'],
    ['no stylesheet', '<parameter name="a">b</parameter>', 'POL3011', 'xsl-transform'],
    ['a parameter without a name', '<parameter>b</parameter><xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" />', 'POL3003', 'parameter'],
    ['the wrong XSL namespace', '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/XSL/Transform/1.0" />', 'POL3004', 'http://www.w3.org/XSL/'],
  ])('refuses %s at load with its position', async (_what, content, code, needle) => {
    const g = await start('');
    const xml = `<policies>\n<inbound><xsl-transform>${content}</xsl-transform></inbound>\n</policies>`;
    const { status, body } = await putPolicy(g.url, 'apis/inference-api', xml);
    expect(status).toBe(400);
    expect(body.error.details[0]).toMatchObject({ code, line: 2, column: 1 + xml.split('\n')[1]!.indexOf(needle) });
  });
});
