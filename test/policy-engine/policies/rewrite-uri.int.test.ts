import { beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { apiPolicy, httpBackendConfig } from '../../support/configs.js';
import { chatUrl, LAB_MESSAGES } from '../../support/lab.js';
import { putPolicy } from '../../support/policy-control.js';
import { useScriptedGateway } from '../../support/scripted-gateway.js';

describe('rewrite-uri over HTTP', () => {
  const { backend, gw } = useScriptedGateway();
  beforeEach(() => void (backend.received.length = 0));
  const setApi = (inbound: string) => gw.policies.set('apis/inference-api', apiPolicy(inbound));
  const call = async (query = '', deployment?: string) => {
    const res = await fetch(`${chatUrl(gw.url, deployment)}${query}`, {
      method: 'POST',
      headers: { 'api-key': gw.keyFor('subscription1'), 'content-type': 'application/json' },
      body: JSON.stringify({ messages: LAB_MESSAGES }),
    });
    const url = new URL(backend.received[0]!.url, 'http://x');
    return { res, path: url.pathname, query: url.searchParams, raw: backend.received[0]!.url };
  };

  it('substitutes matched path parameters and copies unmatched query parameters by default', async () => {
    setApi(`<rewrite-uri template="/v2/models/{deployment-id}/chat" />`);
    const { res, path, query } = await call('&extra=1');
    expect(res.status).toBe(200);
    expect(path).toBe('/openai/v2/models/gpt-4.1-mini/chat');
    expect(query.get('api-version')).toBe('2025-03-01-preview');
    expect(query.get('extra')).toBe('1');
    expect(query.has('api-key')).toBe(false);
  });

  it('copy-unmatched-params="false" keeps only the template query; {param} also reads the query string', async () => {
    setApi(`<rewrite-uri template="/deployments/{deployment-id}/chat/completions?api-version={api-version}&amp;mode=fixed" copy-unmatched-params="false" />`);
    const { raw, query } = await call('&extra=1');
    expect(raw).toBe('/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview&mode=fixed');
    expect(query.has('extra')).toBe(false);
  });

  it('a query parameter used by the template is not copied twice; template values win over client values', async () => {
    setApi(`<rewrite-uri template="/x?v={api-version}&amp;extra=template" />`);
    const { query } = await call('&extra=client&other=2');
    expect(query.getAll('v')).toEqual(['2025-03-01-preview']);
    expect(query.has('api-version')).toBe(false);
    expect(query.getAll('extra')).toEqual(['template']);
    expect(query.getAll('other')).toEqual(['2']);
  });

  it('the template accepts an expression, and context.Request.Url shows the rewritten path afterwards', async () => {
    setApi(
      `<rewrite-uri template="@(&quot;/deployments/&quot; + context.Request.MatchedParameters[&quot;deployment-id&quot;].ToUpper() + &quot;/chat/completions&quot;)" />
       <set-header name="x-path" exists-action="override"><value>@(context.Request.Url.Path)</value></set-header>
       <set-header name="x-original" exists-action="override"><value>@(context.Request.OriginalUrl.Path)</value></set-header>`,
    );
    const { path } = await call();
    expect(path).toBe('/openai/deployments/GPT-4.1-MINI/chat/completions');
    expect(backend.received[0]!.headers['x-path']).toBe('/inference/openai/deployments/GPT-4.1-MINI/chat/completions');
    expect(backend.received[0]!.headers['x-original']).toBe('/inference/openai/deployments/gpt-4.1-mini/chat/completions');
  });

  it('substituted values are percent-encoded in the path', async () => {
    setApi(`<set-query-parameter name="name" exists-action="override"><value>a b?c</value></set-query-parameter><rewrite-uri template="/items/{name}" copy-unmatched-params="false" />`);
    const { raw } = await call();
    expect(raw).toBe('/openai/items/a%20b%3Fc');
  });

  it('an unknown {param} becomes empty and is logged as a warning', async () => {
    const lines: string[] = [];
    const logged = await startEmulator({ config: httpBackendConfig(backend.url, apiPolicy(`<rewrite-uri template="/items/{missing}/x" />`)), log: (l) => lines.push(l) });
    try {
      await fetch(chatUrl(logged.url), { method: 'POST', headers: { 'api-key': logged.keyFor('subscription1'), 'content-type': 'application/json' }, body: '{}' });
      expect(new URL(backend.received[0]!.url, 'http://x').pathname).toBe('/openai/items//x');
      expect(lines.some((l) => l.includes("rewrite-uri: template parameter '{missing}' has no value"))).toBe(true);
    } finally {
      await logged.close();
    }
  });

  it.each([
    ['a missing template', '<inbound><rewrite-uri /></inbound>', 'POL3003', 'rewrite-uri'],
    ['an absolute URL', '<inbound><rewrite-uri template="https://elsewhere/x" /></inbound>', 'POL3004', 'https:'],
    ['an unbalanced brace', '<inbound><rewrite-uri template="/a/{b" /></inbound>', 'POL3004', '/a/{b'],
    ['a non-boolean copy-unmatched-params', '<inbound><rewrite-uri template="/a" copy-unmatched-params="no" /></inbound>', 'POL3004', 'no"'],
    ['the backend section', '<backend><rewrite-uri template="/a" /></backend>', 'POL3007', 'rewrite-uri'],
  ])('rejects %s at load with its code and line:column', async (_what, section, code, needle) => {
    const { status, body } = await putPolicy(gw.url, 'apis/inference-api', `<policies>\n  ${section}\n</policies>`);
    expect(status).toBe(400);
    expect(body.error.details[0]).toMatchObject({ code, line: 2, column: 3 + section.indexOf(needle) });
  });
});
