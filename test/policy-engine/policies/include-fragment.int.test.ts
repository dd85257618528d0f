import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigFile, resolveConfig } from '../../../emulator/config/load.js';
import { lintPolicyText } from '../../../emulator/lint/lint.js';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { apiPolicy, httpBackendConfig } from '../../support/configs.js';
import { labPost } from '../../support/lab.js';
import { putPolicy } from '../../support/policy-control.js';
import { startScriptedBackend, type ScriptedBackend } from '../../support/scripted-backend.js';

const headerFragment = (value: string) => `<fragment>
  <set-header name="x-frag" exists-action="override"><value>${value}</value></set-header>
</fragment>`;

/** include-fragment with fragments from the config file and the control plane, over HTTP. */
describe('include-fragment', () => {
  let backend: ScriptedBackend;
  let gw: RunningEmulator;
  beforeAll(async () => {
    backend = await startScriptedBackend();
    gw = await startEmulator({
      config: httpBackendConfig(backend.url, apiPolicy(`<include-fragment fragment-id="stamp" />`), {
        fragments: { stamp: headerFragment('@("v1-" + context.Subscription.Name)'), 'on-error-body': '<fragment><set-body>fragment on-error</set-body></fragment>' },
      }),
    });
  });
  afterAll(async () => {
    await gw?.close();
    await backend?.close();
  });
  beforeEach(() => {
    backend.received.length = 0;
  });
  const cp = (path: string, init: RequestInit = {}) => fetch(`${gw.url}/_emulator/fragments${path}`, init);
  const putFragment = async (id: string, xml: string) => {
    const res = await cp(`/${id}`, { method: 'PUT', headers: { 'content-type': 'application/xml' }, body: xml });
    return { status: res.status, body: (await res.json()) as any };
  };

  it('a fragment from the config file runs in place (its expressions see the request)', async () => {
    expect((await labPost(gw.url, gw.keyFor('subscription1'))).status).toBe(200);
    expect(backend.received[0]!.headers['x-frag']).toBe('v1-Subscription 1');
  });

  it('PUT /_emulator/fragments/{id} replaces it and recompiles the policies that include it; GET reads it back', async () => {
    const put = await putFragment('stamp', headerFragment('v2'));
    expect(put).toMatchObject({ status: 200, body: { id: 'stamp', status: 'loaded' } });
    expect(put.body.recompiled).toContain('apis/inference-api');
    await labPost(gw.url, gw.keyFor('subscription1'));
    expect(backend.received[0]!.headers['x-frag']).toBe('v2');
    expect(await (await cp('/stamp')).text()).toBe(headerFragment('v2'));
    const list = (await (await cp('')).json()) as Array<{ id: string }>;
    expect(list.map((f) => f.id).sort()).toEqual(['on-error-body', 'stamp']);
  });

  it('a fragment that would break an including policy is refused with its position, and nothing changes', async () => {
    const put = await putFragment('stamp', `<fragment>\n  <set-header name="x-frag"><value>v3</value></set-header>\n  <no-such-policy />\n</fragment>`);
    expect(put.status).toBe(400);
    expect(put.body.error.code).toBe('ValidationError');
    const details = put.body.error.details as Array<{ code: string; message: string; source: string }>;
    expect(details).toContainEqual(
      expect.objectContaining({ code: 'POL3064', source: 'apis/inference-api policy', message: expect.stringContaining("fragments/stamp(3,4): error POL3001: Unknown policy 'no-such-policy'") }),
    );
    await labPost(gw.url, gw.keyFor('subscription1'));
    expect(backend.received[0]!.headers['x-frag']).toBe('v2');
  });

  it('a root other than <fragment> is refused (POL3063)', async () => {
    const put = await putFragment('other', '<policies><inbound /></policies>');
    expect(put.status).toBe(400);
    expect(put.body.error.details[0]).toMatchObject({ code: 'POL3063', message: "Policy fragment 'other' must have a <fragment> root element, found <policies>." });
  });

  it('a policy naming an unknown fragment is refused with a diagnostic naming it at the fragment-id', async () => {
    const res = await putPolicy(gw.url, 'apis/inference-api', apiPolicy(`<include-fragment fragment-id="nope" />`));
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([
      expect.objectContaining({
        code: 'POL3061',
        source: 'apis/inference-api.xml',
        line: 5,
        column: 36,
        message: "Policy fragment 'nope' is not defined. Define it under fragments in the config file or with PUT /_emulator/fragments/nope.",
      }),
    ]);
  });

  it('a fragment that includes itself is refused where it is included (POL3062)', async () => {
    expect((await putFragment('loop', '<fragment><include-fragment fragment-id="loop" /></fragment>')).status).toBe(200);
    const res = await putPolicy(gw.url, 'apis/inference-api', apiPolicy(`<include-fragment fragment-id="loop" /><include-fragment fragment-id="stamp" />`));
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].message).toContain("Policy fragment 'loop' includes itself (loop → loop)");
    await cp('/loop', { method: 'DELETE' });
  });

  it('in any section (on-error here); DELETE of a fragment in use is refused (409), allowed once no policy includes it', async () => {
    const withOnError = apiPolicy(`<include-fragment fragment-id="stamp" /><return-response><set-status code="418" reason="Teapot" /></return-response>`);
    expect((await putPolicy(gw.url, 'apis/inference-api', withOnError)).status).toBe(200);
    expect((await labPost(gw.url, gw.keyFor('subscription1'))).status).toBe(418);
    const inUse = await cp('/stamp', { method: 'DELETE' });
    expect(inUse.status).toBe(409);
    expect(((await inUse.json()) as any).error.code).toBe('FragmentInUse');
    const failing = `<set-variable name="boom" value="@(((string)null).Length.ToString())" />`;
    expect((await putPolicy(gw.url, 'apis/inference-api', apiPolicy(failing, { onError: `<include-fragment fragment-id="on-error-body" />` }))).status).toBe(200);
    const res = await labPost(gw.url, gw.keyFor('subscription1'));
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('fragment on-error');
    const deleted = await cp('/stamp', { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    // The configuration's API policy includes it: reset brings both back.
    expect(await deleted.json()).toEqual({ id: 'stamp', status: 'deleted', restoredByReset: true });
    expect((await cp('/stamp')).status).toBe(404);
    expect((await cp('/stamp', { method: 'DELETE' })).status).toBe(404);
  });

  it('/_emulator/reset keeps control-plane fragments (as named values) and restores the configuration\'s', async () => {
    expect((await putFragment('kept', headerFragment('k'))).status).toBe(200);
    await gw.reset();
    expect((await cp('/kept')).status).toBe(200);
    expect((await cp('/stamp')).status).toBe(200);
    await labPost(gw.url, gw.keyFor('subscription1'));
    expect(backend.received[0]!.headers['x-frag']).toBe('v2');
  });
});

describe('fragments in configuration files and policies lint', () => {
  it('a fragment value ending in .xml is read relative to the config file; lint resolves include-fragment from it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fragments-'));
    try {
      writeFileSync(join(dir, 'stamp.xml'), headerFragment('from-file'));
      writeFileSync(join(dir, 'config.yaml'), 'apis: [{ id: a, path: a, type: azure-openai }]\nfragments:\n  stamp: stamp.xml\n  inline: "<fragment><set-variable name=\'v\' value=\'1\' /></fragment>"\n');
      const config = loadConfigFile(join(dir, 'config.yaml'));
      expect(resolveConfig(config).fragments).toEqual({ stamp: headerFragment('from-file'), inline: "<fragment><set-variable name='v' value='1' /></fragment>" });
      const context = { namedValues: {}, backendIds: ['backend1'], placeholders: {}, scope: 'api' as const, strict: true };
      const xml = apiPolicy(`<include-fragment fragment-id="stamp" />`);
      expect(lintPolicyText(xml, 'p.xml', { ...context, fragments: config.fragments! }).status).toBe('loaded');
      const without = lintPolicyText(xml, 'p.xml', context);
      expect([without.status, without.diagnostics.map((d) => d.code)]).toEqual(['refused', ['POL3061']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a fragments entry that is not XML text is a configuration error naming it', () => {
    expect(() => resolveConfig({ apis: [{ id: 'a', path: 'a', type: 'azure-openai' }], fragments: { bad: 42 as unknown as string } })).toThrow('fragments.bad: expected the fragment XML as a string');
  });
});
