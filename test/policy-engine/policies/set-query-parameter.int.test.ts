import { beforeEach, describe, expect, it } from 'vitest';
import { apiPolicy } from '../../support/configs.js';
import { chatUrl, LAB_MESSAGES } from '../../support/lab.js';
import { putPolicy } from '../../support/policy-control.js';
import { useScriptedGateway } from '../../support/scripted-gateway.js';

describe('set-query-parameter over HTTP', () => {
  const { backend, gw } = useScriptedGateway();
  beforeEach(() => void (backend.received.length = 0));
  const setApi = (inbound: string, sections: Parameters<typeof apiPolicy>[1] = {}) => gw.policies.set('apis/inference-api', apiPolicy(inbound, sections));
  /** Calls with extra query parameters; returns the query the backend received. */
  const call = async (query = '') => {
    const res = await fetch(`${chatUrl(gw.url)}${query}`, {
      method: 'POST',
      headers: { 'api-key': gw.keyFor('subscription1'), 'content-type': 'application/json' },
      body: JSON.stringify({ messages: LAB_MESSAGES }),
    });
    return { res, query: new URL(backend.received[0]!.url, 'http://x').searchParams };
  };
  const qp = (name: string, action: string, ...values: string[]) =>
    `<set-query-parameter name="${name}" exists-action="${action}">${values.map((v) => `<value>${v}</value>`).join('')}</set-query-parameter>`;

  it('override (the default) replaces every value; a new parameter is added', async () => {
    setApi(`<set-query-parameter name="x"><value>one</value><value>two</value></set-query-parameter>${qp('api-version', 'override', '2024-10-21')}`);
    const { res, query } = await call('&x=client&x=again');
    expect(res.status).toBe(200);
    expect(query.getAll('x')).toEqual(['one', 'two']);
    expect(query.getAll('api-version')).toEqual(['2024-10-21']);
  });

  it('skip keeps the client value and sets an absent parameter', async () => {
    setApi(`${qp('x', 'skip', 'policy')}${qp('y', 'skip', 'policy')}`);
    const { query } = await call('&x=client');
    expect(query.getAll('x')).toEqual(['client']);
    expect(query.getAll('y')).toEqual(['policy']);
  });

  it('append adds to the client values; delete removes the parameter', async () => {
    setApi(`${qp('x', 'append', 'policy')}${qp('drop', 'delete')}`);
    const { query } = await call('&x=client&drop=1&drop=2');
    expect(query.getAll('x')).toEqual(['client', 'policy']);
    expect(query.has('drop')).toBe(false);
  });

  it('name, exists-action and values accept expressions; context.Request.Url sees the change', async () => {
    setApi(
      `<set-variable name="p" value="user" />
       <set-query-parameter name="@((string)context.Variables[&quot;p&quot;])" exists-action="@(&quot;append&quot;)"><value>@(context.Subscription.Id)</value></set-query-parameter>
       <set-header name="x-seen" exists-action="override"><value>@(context.Request.Url.Query.GetValueOrDefault("user", "none"))</value></set-header>`,
    );
    const { query } = await call();
    expect(query.getAll('user')).toEqual(['subscription1']);
    expect(backend.received[0]!.headers['x-seen']).toBe('subscription1');
  });

  it('values with reserved characters are encoded once', async () => {
    setApi(qp('filter', 'override', 'a b&amp;c=d/é'));
    const { query } = await call();
    expect(query.get('filter')).toBe('a b&c=d/é');
  });

  it('runs in the backend section too', async () => {
    gw.policies.set(
      'apis/inference-api',
      `<policies><inbound><base /><set-backend-service backend-id="backend1" /></inbound><backend>${qp('z', 'override', 'b')}<forward-request /></backend></policies>`,
    );
    const { query } = await call();
    expect(query.get('z')).toBe('b');
  });

  it.each([
    ['a missing name', '<inbound><set-query-parameter exists-action="override"><value>v</value></set-query-parameter></inbound>', 'POL3003', 'set-query-parameter'],
    ['an unknown exists-action', '<inbound><set-query-parameter name="x" exists-action="replace"><value>v</value></set-query-parameter></inbound>', 'POL3004', 'replace'],
    ['an unknown child', '<inbound><set-query-parameter name="x"><val>v</val></set-query-parameter></inbound>', 'POL3010', 'val>'],
    ['the outbound section', '<outbound><set-query-parameter name="x"><value>v</value></set-query-parameter></outbound>', 'POL3007', 'set-query-parameter'],
  ])('rejects %s at load with its code and line:column', async (_what, section, code, needle) => {
    const { status, body } = await putPolicy(gw.url, 'apis/inference-api', `<policies>\n  ${section}\n</policies>`);
    expect(status).toBe(400);
    expect(body.error.details[0]).toMatchObject({ code, line: 2, column: 3 + section.indexOf(needle) });
  });
});
