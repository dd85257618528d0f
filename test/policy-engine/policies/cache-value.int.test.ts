import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryValueCache } from '../../../policy-engine/policies/shared/value-cache.js';
import { apiPolicy } from '../../support/configs.js';
import { labPost } from '../../support/lab.js';
import { putPolicy } from '../../support/policy-control.js';
import { useScriptedGateway } from '../../support/scripted-gateway.js';

/** cache-lookup-value, cache-store-value and cache-remove-value over HTTP, expiring on the virtual clock. */
describe('cache-*-value over HTTP', () => {
  const { backend, gw } = useScriptedGateway();
  beforeEach(async () => {
    await gw.reset();
    backend.received.length = 0;
  });
  const setApi = (inbound: string, sections: Parameters<typeof apiPolicy>[1] = {}) => gw.policies.set('apis/inference-api', apiPolicy(inbound, sections));
  const call = (headers: Record<string, string> = {}) => labPost(gw.url, gw.keyFor('subscription1'), headers);
  /** Inbound set-header writes the request: the backend shows what the policies saw. */
  const seenBy = async (headers: Record<string, string> = {}, name = 'x-cached') => {
    const before = backend.received.length;
    await call(headers);
    return backend.received.length > before ? (backend.received.at(-1)!.headers[name] as string) : undefined;
  };
  const show = (variable: string, header = 'x-cached') =>
    `<set-header name="${header}" exists-action="override"><value>@(context.Variables.ContainsKey("${variable}") ? (context.Variables["${variable}"] == null ? "null" : context.Variables["${variable}"].ToString() + "|" + context.Variables["${variable}"].GetType().Name) : "absent")</value></set-header>`;

  /** The secure-responses-api shape: look up, store on a miss (key from a header), show the variable. */
  const lookupThenStore = (duration = '60') =>
    `<cache-lookup-value key="@(&quot;owner-&quot; + context.Request.Headers.GetValueOrDefault(&quot;x-id&quot;, &quot;&quot;))" variable-name="owner" />
     ${show('owner')}
     <choose><when condition="@(context.Variables[&quot;owner&quot;] == null)">
       <cache-store-value key="@(&quot;owner-&quot; + context.Request.Headers.GetValueOrDefault(&quot;x-id&quot;, &quot;&quot;))" value="@(context.Request.Headers.GetValueOrDefault(&quot;x-user&quot;, &quot;&quot;))" duration="${duration}" />
     </when></choose>`;

  it('a miss sets the variable to null; a store is found by the next request until duration seconds pass', async () => {
    setApi(lookupThenStore('60'));
    const seen = (user: string) => seenBy({ 'x-id': 'r1', 'x-user': user });
    expect(await seen('alice')).toBe('null');
    expect(await seen('bob')).toBe('alice|String');
    gw.clock.advance('59s');
    expect(await seen('bob')).toBe('alice|String');
    gw.clock.advance('1s');
    expect(await seen('bob')).toBe('null');
    expect(await seen('carol')).toBe('bob|String');
    expect(await seenBy({ 'x-id': 'other', 'x-user': 'x' })).toBe('null');
  });

  it('default-value: a literal is a string, an expression keeps its type', async () => {
    setApi(
      `<cache-lookup-value key="nothing" variable-name="a" default-value="42" />${show('a', 'x-a')}
       <cache-lookup-value key="nothing" variable-name="b" default-value="@(40 + 2)" />${show('b', 'x-b')}`,
    );
    await call();
    expect(backend.received[0]!.headers['x-a']).toBe('42|String');
    expect(backend.received[0]!.headers['x-b']).toBe('42|Int32');
  });

  it('stored expression values keep their type; a literal value is a string', async () => {
    setApi(
      `<cache-store-value key="n" value="@(7)" duration="10" /><cache-store-value key="s" value="seven" duration="10" caching-type="internal" />
       <cache-lookup-value key="n" variable-name="n" />${show('n', 'x-n')}
       <cache-lookup-value key="s" variable-name="s" caching-type="internal" />${show('s', 'x-s')}`,
    );
    await call();
    expect(backend.received[0]!.headers['x-n']).toBe('7|Int32');
    expect(backend.received[0]!.headers['x-s']).toBe('seven|String');
  });

  it('cache-remove-value removes a stored value (and ignores an absent key)', async () => {
    setApi(
      `<choose><when condition="@(context.Request.Headers.ContainsKey(&quot;x-store&quot;))"><cache-store-value key="k" value="v" duration="3600" /></when></choose>
       <choose><when condition="@(context.Request.Headers.ContainsKey(&quot;x-remove&quot;))"><cache-remove-value key="@(&quot;k&quot;)" /><cache-remove-value key="never-stored" /></when></choose>
       <cache-lookup-value key="k" variable-name="k" default-value="gone" />${show('k')}`,
    );
    expect(await seenBy({ 'x-store': '1' })).toBe('v|String');
    expect(await seenBy()).toBe('v|String');
    expect(await seenBy({ 'x-remove': '1' })).toBe('gone|String');
  });

  it('works across sections: stored in outbound from the response, read in the next inbound', async () => {
    setApi(`<cache-lookup-value key="status" variable-name="last" default-value="none" />${show('last')}`, {
      outbound: `<cache-store-value key="status" value="@(context.Response.StatusCode)" duration="5" />`,
    });
    expect(await seenBy()).toBe('none|String');
    await call();
    expect(backend.received[1]!.headers['x-cached']).toBe('200|Int32');
  });

  it('a reset empties the cache (a new engine)', async () => {
    setApi(`<cache-lookup-value key="k" variable-name="k" />${show('k')}<cache-store-value key="k" value="v" duration="3600" />`);
    await call();
    expect(await seenBy()).toBe('v|String');
    await gw.reset();
    setApi(`<cache-lookup-value key="k" variable-name="k" />${show('k')}`);
    expect(await seenBy()).toBe('null');
  });

  it('a duration expression that is not positive fails with ExpressionValueEvaluationFailure', async () => {
    setApi(`<cache-store-value key="k" value="v" duration="@(0)" />`, {
      onError: `<set-header name="x-err" exists-action="override"><value>@(context.LastError.Source + "|" + context.LastError.Reason)</value></set-header>`,
    });
    const res = await call();
    expect(res.status).toBe(500);
    expect(res.headers.get('x-err')).toBe('cache-store-value|ExpressionValueEvaluationFailure');
  });

  it.each([
    ['lookup without variable-name', '<inbound><cache-lookup-value key="k" /></inbound>', 'POL3003', 'cache-lookup-value'],
    ['lookup with an expression variable-name', '<inbound><cache-lookup-value key="k" variable-name="@(&quot;v&quot;)" /></inbound>', 'POL3006', '@('],
    ['an unknown caching-type', '<inbound><cache-lookup-value key="k" variable-name="v" caching-type="redis" /></inbound>', 'POL3004', 'redis'],
    ['store without duration', '<inbound><cache-store-value key="k" value="v" /></inbound>', 'POL3003', 'cache-store-value'],
    ['store without value', '<inbound><cache-store-value key="k" duration="10" /></inbound>', 'POL3003', 'cache-store-value'],
    ['a zero duration', '<inbound><cache-store-value key="k" value="v" duration="0" /></inbound>', 'POL3004', '0"'],
    ['remove without key', '<inbound><cache-remove-value /></inbound>', 'POL3003', 'cache-remove-value'],
    ['a malformed key expression', '<inbound><cache-remove-value key="@(context.)" /></inbound>', 'EXPR2005', ')"'],
  ])('rejects %s at load with its code and line:column', async (_what, section, code, needle) => {
    const { status, body } = await putPolicy(gw.url, 'apis/inference-api', `<policies>\n  ${section}\n</policies>`);
    expect(status).toBe(400);
    const detail = body.error.details[0];
    expect(detail.code, JSON.stringify(body.error.details)).toBe(code);
    expect(detail.line).toBe(2);
    if (code.startsWith('POL')) expect(detail.column).toBe(3 + section.indexOf(needle));
  });
});

describe('MemoryValueCache', () => {
  it('expires at the deadline and evicts the oldest entry when full', () => {
    const cache = new MemoryValueCache({ maxEntries: 2 });
    cache.set('a', 1, 1000);
    expect(cache.get('a', 999)).toEqual({ found: true, value: 1 });
    expect(cache.get('a', 1000)).toEqual({ found: false });
    cache.set('x', 1, 5000);
    cache.set('y', 2, 5000);
    cache.set('z', 3, 5000);
    expect(cache.size).toBe(2);
    expect(cache.get('x', 0)).toEqual({ found: false });
    expect(cache.get('z', 0)).toEqual({ found: true, value: 3 });
  });
});
