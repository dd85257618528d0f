import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { apiPolicy, httpBackendConfig } from '../../support/configs.js';
import { startScriptedBackend, type ScriptedBackend } from '../../support/scripted-backend.js';
import { labPost } from '../../support/lab.js';

describe('check-header', () => {
  let backend: ScriptedBackend;
  let gw: RunningEmulator;
  beforeAll(async () => {
    backend = await startScriptedBackend();
    gw = await startEmulator({
      config: httpBackendConfig(
        backend.url,
        apiPolicy(
          `<check-header name="x-team" failed-check-httpcode="403" failed-check-error-message="Team not allowed" ignore-case="true"><value>Red</value><value>blue</value></check-header>`,
          { onError: '<set-header name="x-reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>' },
        ),
      ),
    });
  });
  afterAll(async () => {
    await gw.close();
    await backend.close();
  });

  it('passes allowed values (case-insensitive) and refuses others with the configured status and message', async () => {
    backend.received.length = 0;
    expect((await labPost(gw.url, gw.keyFor('subscription1'), { 'x-team': 'RED' })).status).toBe(200);
    const wrong = await labPost(gw.url, gw.keyFor('subscription1'), { 'x-team': 'green' });
    expect(wrong.status).toBe(403);
    expect(await wrong.text()).toBe('{ "statusCode": 403, "message": "Team not allowed" }');
    expect(wrong.headers.get('x-reason')).toBe('HeaderValueNotAllowed');
    const missing = await labPost(gw.url, gw.keyFor('subscription1'));
    expect(missing.status).toBe(403);
    expect(missing.headers.get('x-reason')).toBe('HeaderNotFound');
    expect(backend.received).toHaveLength(1);
  });

  it('requires its attributes at load', () => {
    expect(() => gw.policies.set('apis/inference-api', '<policies><inbound><check-header name="x" failed-check-httpcode="401" ignore-case="true" /></inbound></policies>')).toThrow(
      "Policy 'check-header' requires attribute 'failed-check-error-message'.",
    );
  });
});
