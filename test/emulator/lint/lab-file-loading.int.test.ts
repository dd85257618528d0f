import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../../emulator/config/load.js';
import { presetConfig } from '../../../emulator/config/presets.js';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { labPost } from '../../support/lab.js';

const FIXTURES = new URL('../../fixtures/lint/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8');

interface Detail {
  code: string;
  severity: string;
  message: string;
  line: number;
  column: number;
}

async function putPolicy(gw: RunningEmulator, xml: string): Promise<{ status: number; details: Detail[] }> {
  const res = await fetch(`${gw.url}/_emulator/policies/apis/inference-api`, { method: 'PUT', headers: { 'content-type': 'application/xml' }, body: xml });
  const body = (await res.json()) as { error?: { details?: Detail[] } };
  return { status: res.status, details: body.error?.details ?? [] };
}

const putNamedValue = (gw: RunningEmulator, name: string, value: string) =>
  fetch(`${gw.url}/_emulator/named-values/${name}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ properties: { value } }) });

/** A lab-shaped policy whose named value is used only when the caller sends `x-callback`. */
const CALLBACK_POLICY = `<policies>
  <inbound>
    <base />
    <set-backend-service backend-id="foundry1" />
    <choose>
      <when condition="@(context.Request.Headers.ContainsKey(&quot;x-callback&quot;))">
        <set-header name="x-gateway" exists-action="override"><value>{{GatewayUrl}}</value></set-header>
      </when>
    </choose>
  </inbound>
  <backend><base /></backend>
  <outbound><base />
    <set-header name="x-seen-gateway" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("x-gateway", "none"))</value></set-header>
  </outbound>
  <on-error><base />
    <set-header name="x-last-error" exists-action="override"><value>@(context.LastError.Source + "|" + context.LastError.Reason + "|" + context.LastError.Message)</value></set-header>
  </on-error>
</policies>`;

describe('loading real lab files (strict mode, through the control plane)', () => {
  let gw: RunningEmulator;
  beforeAll(async () => {
    gw = await startEmulator({ config: presetConfig('token-rate-limiting') });
  });
  afterAll(() => gw.close());
  beforeEach(() => gw.reset());

  it('set-status without reason loads with a warning; context.Response.StatusReason is empty', async () => {
    const policy = `<policies><inbound><base /><set-backend-service backend-id="foundry1" /></inbound><backend><base /></backend>
<outbound><base /><set-status code="202" /><set-header name="x-reason" exists-action="override"><value>@("[" + context.Response.StatusReason + "]")</value></set-header></outbound><on-error><base /></on-error></policies>`;
    expect((await putPolicy(gw, policy)).status).toBe(200);
    const warnings = gw.emulator.engine.getPolicy({ kind: 'api', apiId: 'inference-api' })!.warnings;
    expect(warnings.map((w) => [w.code, w.severity, w.message])).toEqual([['POL3041', 'warning', "set-status has no 'reason': APIM accepts this and sends an empty reason phrase."]]);
    const res = await labPost(gw.url, gw.keyFor('subscription1'));
    expect(res.status).toBe(202);
    expect(res.headers.get('x-reason')).toBe('[]');
  });

  it('the set-status-without-reason fixture (a 401 from return-response) loads and answers', async () => {
    expect((await putPolicy(gw, fixture('loaded/set-status-without-reason.xml'))).status).toBe(200);
    const res = await labPost(gw.url, gw.keyFor('subscription1'));
    expect(res.status).toBe(401);
    expect(await res.text()).toBe('missing caller');
  });

  it('undefined named values: one diagnostic per name with the count and where to define it; defined on the control plane, the file loads', async () => {
    const refused = await putPolicy(gw, fixture('refused/named-values.xml'));
    expect(refused.status).toBe(400);
    expect(refused.details.map((d) => [d.code, d.severity, d.line, d.column, d.message])).toEqual([
      ['XML1003', 'error', 5, 20, "Named value 'GatewayUrl' is not defined (2 references). Define it with --named-value GatewayUrl=<value>, under namedValues in the config file, or with PUT /_emulator/named-values/GatewayUrl."],
      ['XML1003', 'error', 11, 20, "Named value 'ClientId' is not defined. Define it with --named-value ClientId=<value>, under namedValues in the config file, or with PUT /_emulator/named-values/ClientId."],
    ]);
    expect((await putNamedValue(gw, 'gatewayurl', 'https://apim.example')).status).toBe(200);
    expect((await putNamedValue(gw, 'ClientId', 'client-1')).status).toBe(200);
    expect((await putPolicy(gw, fixture('refused/named-values.xml'))).status).toBe(200);
    const list = await (await fetch(`${gw.url}/_emulator/named-values`)).json();
    expect(list).toEqual(expect.arrayContaining([{ name: 'gatewayurl', value: 'https://apim.example' }, { name: 'ClientId', value: 'client-1' }]));
    for (const name of ['gatewayurl', 'ClientId']) expect((await fetch(`${gw.url}/_emulator/named-values/${name}`, { method: 'DELETE' })).status).toBe(200);
  });

  it('an undefined backend: one POL3016 for the two references, naming where to define it', async () => {
    const refused = await putPolicy(gw, fixture('refused/unknown-backend.xml'));
    expect(refused.details.map((d) => [d.code, d.line, d.column, d.message])).toEqual([
      ['POL3016', 4, 42, "Backend 'orders-backend' is not defined. Define it under backends in the config file or a lab deployment (policies lint: --backend orders-backend)."],
    ]);
  });

  it('Bicep placeholders in numeric and identifier attributes are named, with what replaces them', async () => {
    const refused = await putPolicy(gw, fixture('refused/bicep-placeholders.xml'));
    expect(refused.status).toBe(400);
    // The preset's API replaces {backend-id} (as the lab's Bicep does); {tpm} and {retry-count} are left.
    expect(refused.details.map((d) => [d.code, d.line, d.column])).toEqual([
      ['POL3040', 5, 86],
      ['POL3040', 8, 23],
    ]);
    expect(refused.details[0]!.message).toBe(
      "Attribute 'tokens-per-minute' of policy 'llm-token-limit' holds the Bicep placeholder '{tpm}', which the lab's Bicep (or notebook) replaces before deploying. Supply its value: policyPlaceholders in the API's configuration, e.g. { \"{tpm}\": \"1\" }, or policies lint --placeholder {tpm}=1.",
    );
    expect(refused.details[1]!.message).toContain("Attribute 'count' of policy 'retry' holds the Bicep placeholder '{retry-count}'");
  });

  it('a root element other than <policies> says so', async () => {
    const refused = await putPolicy(gw, fixture('refused/evaluation-root.xml'));
    expect(refused.details.map((d) => [d.code, d.line, d.column, d.message])).toEqual([['XML1004', 1, 2, 'The root element must be <policies> (or <fragment>), found <evaluation>.']]);
  });
});

describe('loading real lab files with placeholders supplied (the lab Bicep\'s replace())', () => {
  it('the placeholder fixture loads once policyPlaceholders give {backend-id}, {tpm} and {retry-count}', async () => {
    const config = presetConfig('token-rate-limiting');
    config.apis[0]!.policyPlaceholders = { '{backend-id}': 'foundry1', '{tpm}': '1000', '{retry-count}': '2' };
    config.apis[0]!.policy = fixture('refused/bicep-placeholders.xml');
    const gw = await startEmulator({ config });
    try {
      expect((await labPost(gw.url, gw.keyFor('subscription1'))).status).toBe(200);
    } finally {
      await gw.close();
    }
  });
});

describe('examples/lint/ai-gateway-labs.yaml', () => {
  it('is an emulator configuration too: the labs\' backends, pool and named values, and a lab policy loads against it', async () => {
    const gw = await startEmulator({ config: loadConfigFile(new URL('../../../examples/lint/ai-gateway-labs.yaml', import.meta.url).pathname) });
    try {
      expect(gw.emulator.config.backends.find((b) => b.id === 'inference-backend-pool')?.type).toBe('pool');
      expect(gw.emulator.config.namedValues.APIMGatewayURL).toBe('https://apim-emulator.azure-api.net');
      expect((await putPolicy(gw, fixture('refused/bicep-placeholders.xml'))).status).toBe(200);
    } finally {
      await gw.close();
    }
  });
});

describe('strict mode off: the file loads and the request that reaches the undefined reference fails', () => {
  let gw: RunningEmulator;
  beforeAll(async () => {
    gw = await startEmulator({ config: presetConfig('token-rate-limiting'), engineOptions: { strict: false } });
  });
  afterAll(() => gw.close());

  it('a named value: warning at load, 500 with NamedValueNotFound only when the branch runs; defining it recompiles the policy', async () => {
    expect((await putPolicy(gw, CALLBACK_POLICY)).status).toBe(200);
    const warnings = gw.emulator.engine.getPolicy({ kind: 'api', apiId: 'inference-api' })!.warnings;
    expect(warnings.map((w) => [w.code, w.severity])).toEqual([['XML1003', 'warning']]);
    expect(warnings[0]!.message).toContain("Named value 'GatewayUrl' is not defined; a request that reaches it fails (strict mode off).");

    const untouched = await labPost(gw.url, gw.keyFor('subscription1'));
    expect(untouched.status).toBe(200);
    const reached = await labPost(gw.url, gw.keyFor('subscription1'), { 'x-callback': '1' });
    expect(reached.status).toBe(500);
    expect(reached.headers.get('x-last-error')).toBe("set-header|NamedValueNotFound|Named value 'GatewayUrl' is not defined.");
    expect((await reached.json()).message).toBe('Internal server error');

    const defined = await putNamedValue(gw, 'GatewayUrl', 'https://apim.example');
    expect(await defined.json()).toMatchObject({ name: 'GatewayUrl', recompiled: ['apis/inference-api'] });
    const now = await labPost(gw.url, gw.keyFor('subscription1'), { 'x-callback': '1' });
    expect(now.status).toBe(200);
    expect(now.headers.get('x-seen-gateway')).toBe('https://apim.example');
  });

  it('an undefined backend: warning at load, BackendNotFound when a request reaches set-backend-service', async () => {
    expect((await putPolicy(gw, fixture('refused/unknown-backend.xml'))).status).toBe(200);
    const warnings = gw.emulator.engine.getPolicy({ kind: 'api', apiId: 'inference-api' })!.warnings;
    expect(warnings.map((w) => [w.code, w.severity])).toEqual([['POL3016', 'warning']]);
    const res = await labPost(gw.url, gw.keyFor('subscription1'));
    expect(res.status).toBe(500);
  });
});
