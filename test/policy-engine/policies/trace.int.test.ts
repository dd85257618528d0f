import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { apiPolicy, httpBackendConfig } from '../../support/configs.js';
import { labPost } from '../../support/lab.js';
import { putPolicy } from '../../support/policy-control.js';
import { startScriptedBackend, type ScriptedBackend } from '../../support/scripted-backend.js';

describe('trace over HTTP', () => {
  let backend: ScriptedBackend;
  let gw: RunningEmulator;
  const lines: string[] = [];
  beforeAll(async () => {
    backend = await startScriptedBackend();
    gw = await startEmulator({ config: httpBackendConfig(backend.url, ''), log: (l) => lines.push(l) });
  });
  afterAll(async () => {
    await gw.close();
    await backend.close();
  });
  beforeEach(() => {
    backend.received.length = 0;
    lines.length = 0;
  });
  const call = () => labPost(gw.url, gw.keyFor('subscription1'));
  const traces = () => lines.filter((l) => / trace /.test(l)).map((l) => l.replace(/^warning \[[^\]]+\]: /, ''));

  it('records message and metadata in every section without changing the request (expressions in message and metadata)', async () => {
    const t = (section: string) =>
      `<trace source="lab" severity="information"><message>@("${section} " + context.Subscription.Id)</message><metadata name="api" value="@(context.Api.Id)" /></trace>`;
    gw.policies.set(
      'apis/inference-api',
      apiPolicy(t('inbound'), { backend: `${t('backend')}<base />`, outbound: t('outbound') }),
    );
    const res = await call();
    expect(res.status).toBe(200);
    expect(backend.received).toHaveLength(1);
    expect(traces()).toEqual([
      'trace lab [information] (inbound): inbound subscription1 {"api":"inference-api"}',
      'trace lab [information] (backend): backend subscription1 {"api":"inference-api"}',
      'trace lab [information] (outbound): outbound subscription1 {"api":"inference-api"}',
    ]);
  });

  it('severity defaults to verbose; trace works in on-error', async () => {
    gw.policies.set(
      'apis/inference-api',
      apiPolicy(`<set-variable name="x" value="@(int.Parse(&quot;x&quot;))" />`, {
        onError: `<trace source="errors"><message>@(context.LastError.Reason)</message></trace>`,
      }),
    );
    expect((await call()).status).toBe(500);
    expect(traces()).toEqual(['trace errors [verbose] (on-error): ExpressionValueEvaluationFailure']);
  });

  it.each([
    ['a missing source', '<inbound><trace><message>m</message></trace></inbound>', 'POL3003', 'trace'],
    ['a missing message', '<inbound><trace source="s" /></inbound>', 'POL3011', 'trace'],
    ['an unknown severity', '<inbound><trace source="s" severity="warning"><message>m</message></trace></inbound>', 'POL3004', 'warning'],
    ['an expression in source', '<inbound><trace source="@(&quot;s&quot;)"><message>m</message></trace></inbound>', 'POL3006', '@('],
    ['metadata without a value', '<inbound><trace source="s"><message>m</message><metadata name="k" /></trace></inbound>', 'POL3003', 'metadata'],
    ['an unknown child', '<inbound><trace source="s"><message>m</message><data /></trace></inbound>', 'POL3010', 'data'],
  ])('rejects %s at load with its code and line:column', async (_what, section, code, needle) => {
    const { status, body } = await putPolicy(gw.url, 'apis/inference-api', `<policies>\n  ${section}\n</policies>`);
    expect(status).toBe(400);
    expect(body.error.details[0]).toMatchObject({ code, line: 2, column: 3 + section.indexOf(needle) });
  });
});
